"""Fixtures for tests that run real nxuskitd processes.

``sandbox`` is extended so that, whatever a test did, no nxuskitd it started (by hand or
through the client's autostart) outlives it. ``spawn`` starts daemons that are stopped at
teardown. ``as_nobody`` runs a command as uid 65534 (root only).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator

import pytest

from tests.conftest import Daemon, Sandbox, start_daemon
from tests.integration.live_cli import reap_live_clis
from tests.integration.secret_service import secret_service, secret_service_session  # noqa: F401

NOBODY = 65534


def _read_proc(pid: int, name: str) -> bytes:
    try:
        with open(f"/proc/{pid}/{name}", "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def nxuskitd_pids(box: Sandbox) -> list[int]:
    """Live nxuskitd processes that belong to ``box`` (by argv or environment)."""
    marker = os.fsencode(str(box.root))
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        cmdline = _read_proc(pid, "cmdline")
        if b"nxuskitd" not in cmdline:
            continue
        status = _read_proc(pid, "status")
        if b"State:\tZ" in status:
            continue
        if marker in cmdline or marker in _read_proc(pid, "environ"):
            found.append(pid)
    return sorted(found)


def reap(box: Sandbox) -> None:
    """Stop every nxuskitd of ``box``: SIGTERM, then SIGKILL after a grace period."""
    pids = nxuskitd_pids(box)
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 5
    while pids and time.monotonic() < deadline:
        time.sleep(0.05)
        pids = [pid for pid in pids if pid in nxuskitd_pids(box)]
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


@pytest.fixture
def sandbox(sandbox: Sandbox) -> Iterator[Sandbox]:
    """The shared sandbox, plus: no daemon of this sandbox survives the test."""
    try:
        yield sandbox
    finally:
        reap(sandbox)


@pytest.fixture(autouse=True)
def _reap_live_clis() -> Iterator[None]:
    """No background nxuskit-cli of a test (tests.integration.live_cli) outlives it."""
    try:
        yield
    finally:
        reap_live_clis()


@pytest.fixture
def spawn(sandbox: Sandbox) -> Iterator[Callable[..., Daemon]]:
    """Start nxuskitd processes in the sandbox (``start_daemon``'s arguments); all are
    stopped, and waited for, at teardown."""
    started: list[Daemon] = []

    def _spawn(*args: str, **kwargs: object) -> Daemon:
        daemon = start_daemon(sandbox, *args, **kwargs)  # type: ignore[arg-type]
        started.append(daemon)
        return daemon

    try:
        yield _spawn
    finally:
        for daemon in started:
            if daemon.process.poll() is None:
                daemon.process.kill()
            daemon.process.wait(10)


def wait_until(condition: Callable[[], object], timeout: float = 10.0, step: float = 0.02) -> bool:
    """Poll ``condition`` until it is true or ``timeout`` passes; its last truth value."""
    deadline = time.monotonic() + timeout
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def can_switch_user() -> str | None:
    """None when tests may act as uid 65534, else the reason they cannot."""
    if os.geteuid() != 0:
        return "needs root to act as another uid (setpriv)"
    if shutil.which("setpriv") is None:
        return "setpriv is not installed (apt-get install util-linux)"
    probe = subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-c", "import nxuskit"],
        capture_output=True, check=False, timeout=30,
    )  # fmt: skip
    if probe.returncode != 0:
        return f"uid {NOBODY} cannot run {sys.executable} with nxuskit importable"
    return None


def as_nobody(*argv: str, env: dict[str, str] | None = None,
              timeout: float = 30) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """Run ``argv`` as uid/gid 65534 with no supplementary groups."""
    return subprocess.run(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
