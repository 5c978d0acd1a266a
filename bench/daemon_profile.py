"""Where nxuskitd spends its time on a warm ``auth.resolve``: ``python bench/daemon_profile.py``.

Starts a daemon (file store, one credential), sends warm resolves over one connection
from this process (the client cache off, so that each one reaches the daemon) for
``--seconds``, and reports the daemon's CPU time per request (from /proc: user + system,
so the socket's system calls count too). With py-spy installed (``pip install py-spy``)
it samples the daemon meanwhile (``--gil``: only while it runs Python) and lists where
that time goes: per function, its share of the samples and the microseconds per request
that share stands for, inclusive (the function and what it calls) and self.
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


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of ``pid`` so far."""
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


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
    lines = [f"| {title} | share | us/request |", "|---|---|---|"]
    for name, count in counts.most_common(18):
        share = count / total
        lines.append(f"| `{name}` | {share:.1%} | {share * per_request:.1f} |")
    return "\n".join(lines)


def profile(seconds: float, spy: str | None) -> str:
    import nxuskit
    from nxuskit.client import reset_default

    with harness.sandbox() as box:
        harness.write_store(box, 1)
        daemon = harness.start_daemon(box)
        raw = Path(tempfile.mkdtemp(prefix="nxb-spy-")) / "daemon.txt"
        try:
            with applied(box.env):
                reset_default()
                for _ in range(2000):  # warm: connection, caches, the registry
                    nxuskit.auth_resolve("openai")
                recorder = None
                if spy is not None:
                    argv = [spy, "record", "-p", str(daemon.pid), "-d", str(int(seconds)),
                            "-r", "1000", "--gil", "--format", "raw", "-o", str(raw)]  # fmt: skip
                    recorder = subprocess.Popen(argv, stdout=subprocess.DEVNULL,
                                                stderr=subprocess.DEVNULL)  # fmt: skip
                    time.sleep(0.5)  # py-spy attaches
                before, count = cpu_seconds(daemon.pid), 0
                end = time.monotonic() + seconds - 1
                while time.monotonic() < end:
                    nxuskit.auth_resolve("openai")
                    count += 1
                used = cpu_seconds(daemon.pid) - before
                if recorder is not None:
                    recorder.wait(60)
                reset_default()
        finally:
            harness.stop(daemon)
    per_request = used / count * 1e6
    report = [f"- {count:,} warm resolves; daemon CPU (user + system): {per_request:.1f} us/request"]
    if spy is not None and raw.exists():
        total, inclusive, own = fold(raw)
        report += ["", table("inclusive", inclusive, total, per_request),
                   "", table("self", own, total, per_request)]  # fmt: skip
    elif spy is None:
        report.append("- py-spy not found: `pip install py-spy` for the breakdown")
    shutil.rmtree(raw.parent, ignore_errors=True)
    return "\n".join(report)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=6.0)
    args = parser.parse_args()
    spy = shutil.which("py-spy") or shutil.which("py-spy", path=str(Path(sys.executable).parent))
    print(profile(max(args.seconds, 2.0), spy))


if __name__ == "__main__":
    main()
