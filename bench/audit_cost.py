"""What the audit trail costs a warm resolve: ``python bench/audit_cost.py [--rounds N]``.

Two nxuskitd processes with the same stored key, one recording every resolve in its audit
log (the default) and one started with ``--no-audit``, each pinned like the client (same
CPU, then separate CPUs, as bench/run.py measures), alternated in rounds so that machine
noise falls on both alike. Prints the p50 and p99 round trips (microseconds) and the
ratio, audited / not audited, all measured in this one run; then the same for 16 client
processes resolving as fast as they can (requests per second, where a queue of entries
builds up for the writer). Not a test: figures only.

``--before CHECKOUT`` runs the second daemon from another checkout's sources instead (for
example the main branch, before the audit trail existed), without ``--no-audit``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import applied, latencies, percentile  # noqa: E402

PLACEMENTS = {"same CPU": (0, 0), "separate CPUs": (0, 1)}


def round_trips(boxes: dict[str, harness.Sandbox], pids: dict[str, int],
                rounds: int, calls: int) -> None:  # fmt: skip
    import nxuskit
    from nxuskit.client import reset_default

    for placement, (client_cpu, server_cpu) in PLACEMENTS.items():
        if server_cpu >= (os.cpu_count() or 1):
            continue
        harness.pin({0: client_cpu, **{pid: server_cpu for pid in pids.values()}})
        found: dict[str, list[float]] = {label: [] for label in boxes}
        for _ in range(rounds):
            for label, box in boxes.items():
                with applied(box.env):
                    reset_default()
                    nxuskit.auth_resolve("openai")  # connect, and warm the daemon's cache
                    found[label] += latencies(lambda: nxuskit.auth_resolve("openai"), calls)
                    reset_default()
        harness.unpin([0, *pids.values()])
        for name, fraction in (("p50", 0.5), ("p99", 0.99)):
            on, off = percentile(found["audited"], fraction), percentile(found["off"], fraction)
            print(f"warm resolve {name} (us), {placement}: audited {on:.1f}, "
                  f"baseline {off:.1f}, ratio {on / off:.3f}x")  # fmt: skip


def throughput(boxes: dict[str, harness.Sandbox], workers: int, duration: float,
               rounds: int) -> None:  # fmt: skip
    def run(box: harness.Sandbox) -> float:
        start_at = time.time() + 1.0 + workers * 0.03
        procs = [
            subprocess.Popen(
                [sys.executable, str(HERE / "worker.py"), "nxuskit", "-", str(start_at),
                 str(duration)],
                env={**box.env, "PYTHONPATH": str(HERE)},
                stdout=subprocess.PIPE,
            )
            for _ in range(workers)
        ]  # fmt: skip
        return sum(int(p.communicate()[0] or 0) for p in procs) / duration

    found: dict[str, list[float]] = {label: [] for label in boxes}
    for _ in range(rounds):
        for label, box in boxes.items():
            found[label].append(run(box))
    on, off = statistics.median(found["audited"]), statistics.median(found["off"])
    print(f"throughput, {workers} client processes (req/s): audited {on:,.0f}, "
          f"baseline {off:,.0f}, ratio {on / off:.3f}x")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--calls", type=int, default=500)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--duration", type=float, default=2.0)
    parser.add_argument("--before", metavar="CHECKOUT", help="the baseline daemon's sources")
    args = parser.parse_args()
    with harness.sandbox() as audited, harness.sandbox() as off:
        boxes = {"audited": audited, "off": off}
        for box in boxes.values():
            harness.write_store(box, 10)
        if args.before:
            source = Path(args.before).resolve()
            off.env["PYTHONPATH"] = f"{source / 'client'}:{source / 'daemon'}"
        baseline = () if args.before else ("--no-audit",)
        daemons = {"audited": harness.start_daemon(audited),
                   "off": harness.start_daemon(off, *baseline)}  # fmt: skip
        try:
            round_trips(boxes, {k: p.pid for k, p in daemons.items()}, args.rounds, args.calls)
            throughput(boxes, args.workers, args.duration, max(3, args.rounds // 5))
        finally:
            for process in daemons.values():
                harness.stop(process)
        log = Path(audited.root) / "state" / "nxuskit" / "audit.jsonl"
        kept = [Path(name) for name in (str(log), *(f"{log}.{n}" for n in (1, 2, 3)))]
        lines = sum(path.read_bytes().count(b"\n") for path in kept if path.exists())
        print(f"entries in the audited daemon's log files (older ones rotated away): {lines:,}")


if __name__ == "__main__":
    main()
