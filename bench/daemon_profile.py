"""Where nxuskitd spends its time on a warm ``auth.resolve``: ``python bench/daemon_profile.py``.

Starts a daemon (file store, one credential) and sends warm resolves over one connection
from this process (the client cache off, so that each one reaches the daemon). First
for ``--seconds`` alone: the daemon's CPU time per request, user and system (from
/proc; system is mostly the socket's calls). Then, with py-spy installed (``pip install
py-spy``), as long again while py-spy samples the daemon (``--gil``: only while it runs
Python), to list where the user time goes: per function, its share of the samples and
the microseconds per request that share stands for, inclusive (the function and what it
calls) and self. Last, without sockets or sampling: the dispatcher's own time for one
``auth.resolve`` line in this process (decode, check, resolve, encode), the daemon's
logic alone.
"""

from __future__ import annotations

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import harness  # noqa: E402
from harness import applied  # noqa: E402


def cpu_seconds(pid: int) -> tuple[float, float]:
    """User and system CPU time of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def resolve_for(seconds: float) -> int:
    """Warm resolves sent for ``seconds``; how many."""
    import nxuskit

    count, end = 0, time.monotonic() + seconds
    while time.monotonic() < end:
        nxuskit.auth_resolve("openai")
        count += 1
    return count


def frame_name(frame: str) -> str:
    """``function (file.py)`` from py-spy's ``function (path/file.py:line)``."""
    name, _, where = frame.partition(" (")
    return f"{name} ({where.rsplit('/', 1)[-1].split(':')[0]})" if where else name


def fold(raw: Path) -> tuple[int, collections.Counter[str], collections.Counter[str]]:
    """Samples in all, and per function: inclusive and self counts."""
    total, inclusive, own = 0, collections.Counter[str](), collections.Counter[str]()
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = [frame_name(frame) for frame in stack.split(";")]
        total += int(count)
        for name in set(frames):
            inclusive[name] += int(count)
        own[frames[-1]] += int(count)
    return total, inclusive, own


def table(title: str, counts: collections.Counter[str], total: int, per_request: float) -> str:
    lines = [f"| {title} | share | user us/request |", "|---|---|---|"]
    for name, count in counts.most_common(24):
        if name.startswith(("_run_", "<module>", "main (", "run (")):
            continue  # the interpreter's and the event loop's frames: always 100%
        share = count / total
        lines.append(f"| `{name}` | {share:.1%} | {share * per_request:.1f} |")
    return "\n".join(lines)


def profile(seconds: float, spy: str | None) -> str:
    import nxuskit
    from nxuskit.client import reset_default

    raw = Path(tempfile.mkdtemp(prefix="nxb-spy-")) / "daemon.txt"
    with harness.sandbox() as box:
        harness.write_store(box, 1)
        daemon = harness.start_daemon(box)
        try:
            with applied(box.env):
                reset_default()
                for _ in range(2000):  # warm: connection, caches, the registry
                    nxuskit.auth_resolve("openai")
                user, system = cpu_seconds(daemon.pid)
                count = resolve_for(seconds)
                after = cpu_seconds(daemon.pid)
                if spy is not None:
                    argv = [spy, "record", "-p", str(daemon.pid), "-d", str(int(seconds) + 1),
                            "-r", "1000", "--gil", "--format", "raw", "-o", str(raw)]  # fmt: skip
                    recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)  # fmt: skip
                    resolve_for(seconds + 2)  # covers py-spy's start and its whole record
                    recorder.wait(60)
                reset_default()
        finally:
            harness.stop(daemon)
    user_us = (after[0] - user) / count * 1e6
    system_us = (after[1] - system) / count * 1e6
    report = [
        f"- {count:,} warm resolves in {seconds:g} s; daemon CPU per request: "
        f"{user_us + system_us:.1f} us ({user_us:.1f} user, {system_us:.1f} system)"
    ]
    if spy is not None and raw.exists():
        total, inclusive, own = fold(raw)
        report += ["", table("inclusive", inclusive, total, user_us),
                   "", table("self", own, total, user_us)]  # fmt: skip
    elif spy is None:
        report.append("- py-spy not found: `pip install py-spy` for the breakdown")
    shutil.rmtree(raw.parent, ignore_errors=True)
    return "\n".join(report)


def handle_cost(calls: int = 20_000, rounds: int = 5) -> str:
    """The best of ``rounds`` of ``calls`` resolve lines through a Dispatcher in this
    process, per line (the daemon's logic, without its sockets and event loop turns)."""
    import anyio

    from nxuskitd.credentials import CredentialService
    from nxuskitd.dispatch import Dispatcher
    from nxuskitd.methods import DaemonState, handlers
    from nxuskitd.stores import FileStore

    plain = b'{"jsonrpc":"2.0","id":7,"method":"auth.resolve","params":{"provider":"openai"}}'
    asking = plain.replace(b'"openai"}', b'"openai","reuse":true}')
    with harness.sandbox() as box:
        harness.write_store(box, 1)
        config = str(box.root / "config" / "nxuskit" / "config.toml")
        extra = {}
        try:
            from nxuskitd.generation import Generation

            extra["published"] = Generation(str(box.root / "generation"))
        except ImportError:  # a daemon from before the client cache
            pass
        service = CredentialService(
            FileStore(str(box.store_file.parent)), "bench", config_path=config, **extra
        )
        dispatcher = Dispatcher(handlers(service, DaemonState(str(box.socket_path), "hand")))

        async def run(line: bytes) -> float:
            best = float("inf")
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(calls):
                    await dispatcher.handle(line)
                best = min(best, (time.perf_counter() - start) / calls * 1e6)
            return best

        costs = [anyio.run(run, plain), anyio.run(run, asking)]
    return (
        f"- dispatcher, one auth.resolve line in process (best of {rounds}): {costs[0]:.1f} us; "
        f'asking for reuse (`"reuse":true`): {costs[1]:.1f} us'
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    print(profile(max(args.seconds, 2.0), spy))
    print(handle_cost())


if __name__ == "__main__":
    main()
