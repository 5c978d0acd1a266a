"""Shared pieces of the benchmark suite: sandboxes, a daemon, ssh-agent, statistics.

Every figure is a ratio against a baseline measured in the same run, alternating the
two in rounds so that machine noise falls on both alike.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import shutil
import signal
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SSH_AGENTC_REQUEST_IDENTITIES = 11
SSH_AGENT_IDENTITIES_ANSWER = 12


@dataclass
class Sandbox:
    root: Path
    env: dict[str, str]

    @property
    def socket_path(self) -> Path:
        return self.root / "run" / "nxuskit" / "nxuskitd.sock"

    @property
    def store_file(self) -> Path:
        return self.root / "data" / "nxuskit" / "credentials.json"


@contextmanager
def sandbox() -> Iterator[Sandbox]:
    """A private XDG home under /tmp (short AF_UNIX paths), the client cache off."""
    root = Path(tempfile.mkdtemp(prefix="nxb-", dir="/tmp"))
    (root / "run").mkdir(mode=0o700)
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY")}
    env.pop("NXUSKIT_SOCKET", None)
    env.update(
        XDG_RUNTIME_DIR=str(root / "run"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        NXUSKIT_AUTOSTART="0",
        NXUSKIT_CLIENT_CACHE="0",  # round trips are measured; item 7 turns the cache on
    )
    try:
        yield Sandbox(root, env)
    finally:
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def applied(env: dict[str, str]) -> Iterator[None]:
    """Run the block with ``env`` as this process's environment."""
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def answers(path: Path) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


def write_store(box: Sandbox, count: int) -> None:
    """A file store holding ``openai`` plus ``count - 1`` other credentials."""
    now = time.time()
    credentials = {
        f"p{i:05d}": {"secret": f"sk-bench-{i:05d}", "updated_at": now} for i in range(count - 1)
    }
    credentials["openai"] = {"secret": "sk-bench-openai", "updated_at": now}
    box.store_file.parent.mkdir(parents=True, mode=0o700, exist_ok=True)
    fd = os.open(box.store_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"format": 1, "credentials": credentials}, handle)


def start_daemon(box: Sandbox, *args: str) -> subprocess.Popen[bytes]:
    """nxuskitd on the sandbox's socket, once it answers."""
    process = subprocess.Popen(
        [sys.executable, "-m", "nxuskitd", "--store", "file", "--log-level", "warning", *args],
        env=box.env,
        stdin=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 15
    while not answers(box.socket_path):
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("nxuskitd did not start")
        time.sleep(0.005)
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextmanager
def ssh_agent(box: Sandbox) -> Iterator[tuple[str, int]]:
    """A private ssh-agent; yields its socket path and pid."""
    path = str(box.root / "agent.sock")
    process = subprocess.Popen(
        ["ssh-agent", "-D", "-a", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 10
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise RuntimeError("ssh-agent did not start")
        time.sleep(0.005)
    try:
        yield path, process.pid
    finally:
        stop(process)


class AgentClient:
    """SSH_AGENTC_REQUEST_IDENTITIES round trips over one connection."""

    def __init__(self, path: str) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.request = struct.pack(">IB", 1, SSH_AGENTC_REQUEST_IDENTITIES)

    def _exactly(self, count: int) -> bytes:
        data = b""
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("ssh-agent closed the connection")
            data += chunk
        return data

    def identities(self) -> None:
        self.sock.sendall(self.request)
        (length,) = struct.unpack(">I", self._exactly(4))
        body = self._exactly(length)
        if body[0] != SSH_AGENT_IDENTITIES_ANSWER:
            raise RuntimeError("unexpected ssh-agent answer")

    def close(self) -> None:
        self.sock.close()


def pin(pids: dict[int, int]) -> None:
    """Put each pid on one CPU ({pid: cpu}; pid 0 is this process)."""
    for pid, cpu in pids.items():
        os.sched_setaffinity(pid, {cpu})


def unpin(pids: list[int]) -> None:
    """Let each pid run anywhere again."""
    every = set(range(os.cpu_count() or 1))
    for pid in pids:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(pid, every)


def latencies(call: Callable[[], object], count: int) -> list[float]:
    """Per-call latency in microseconds."""
    result = []
    clock = time.perf_counter_ns
    for _ in range(count):
        start = clock()
        call()
        result.append((clock() - start) / 1000)
    return result


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def spread(values: list[float]) -> str:
    """Median with the interquartile range, as text."""
    if len(values) < 4:
        return f"{statistics.median(values):.3g}"
    q1, _, q3 = statistics.quantiles(values, n=4)
    return f"{statistics.median(values):.3g} (IQR {q1:.3g}-{q3:.3g})"


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def time_process(argv: list[str], env: dict[str, str]) -> float:
    """Wall time of one process, in milliseconds."""
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return (time.perf_counter() - start) * 1000


def render(rows: list[tuple[str, str, str, str, str, bool | None]], quick: bool = False) -> str:
    """The results as a Markdown table; in quick mode the met column says n/a."""
    header = ("figure", "nxuskit", "baseline", "ratio", "target", "met")
    verdicts = {True: "yes", False: "NO", None: "-"}
    table = [header] + [(*row[:5], "n/a (quick)" if quick else verdicts[row[5]]) for row in rows]
    widths = [max(len(r[i]) for r in table) for i in range(len(header))]
    lines = [
        "| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |" for r in table
    ]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(lines)


def machine() -> str:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as handle:
            cpu = next(
                line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")
            )
    except (OSError, StopIteration):
        pass
    return (
        f"{platform.system()} {platform.release()}, {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}"
    )
