"""A daemon that stops answering costs clients the time they chose, not a fixed 30 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.conftest import Daemon, Sandbox

pytestmark = pytest.mark.timeout(60)

_CLIENT = """
import time, nxuskit
started = time.monotonic()
try:
    nxuskit.auth_resolve("openai")
    print("answered")
except nxuskit.DaemonUnavailable as exc:
    print(f"{time.monotonic() - started:.2f} {exc}")
"""


def test_nxuskit_timeout_bounds_the_wait_on_a_stopped_daemon(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    os.kill(daemon.process.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-c", _CLIENT],
            env={**sandbox.env, "NXUSKIT_TIMEOUT": "1"},
            capture_output=True, text=True, timeout=40, check=False,
        )  # fmt: skip
        elapsed = time.monotonic() - started
    finally:
        os.kill(daemon.process.pid, signal.SIGCONT)
    assert done.returncode == 0, done.stderr
    waited, _, message = done.stdout.partition(" ")
    assert "did not answer" in message
    assert "NXUSKIT_TIMEOUT" in message
    assert float(waited) < 10  # the 1 s chosen, not the default 30 s
    assert elapsed < 20


def test_a_bad_nxuskit_timeout_is_a_clear_error(sandbox: Sandbox, daemon: Daemon) -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import nxuskit; nxuskit.auth_resolve('openai')"],
        env={**sandbox.env, "NXUSKIT_TIMEOUT": "soon"},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert "InvalidArgument" in done.stderr
    assert "NXUSKIT_TIMEOUT='soon'" in done.stderr
