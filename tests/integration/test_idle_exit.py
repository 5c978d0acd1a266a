"""A daemon a client started leaves once nobody needs it; others stay until stopped."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Callable

import pytest

from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import nxuskitd_pids, wait_until

pytestmark = pytest.mark.timeout(60)


def _autostart(sandbox: Sandbox, idle_exit: str) -> int:
    env = {**sandbox.env, "NXUSKIT_AUTOSTART": "1", "NXUSKIT_IDLE_EXIT": idle_exit}
    code = "import nxuskit; print(nxuskit.daemon_status()['pid'])"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=30, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


def test_an_autostarted_daemon_exits_when_idle(sandbox: Sandbox) -> None:
    pid = _autostart(sandbox, "1")
    assert wait_until(lambda: pid not in nxuskitd_pids(sandbox), timeout=20)
    assert not sandbox.socket_path.exists()  # it cleaned up after itself
    log = (sandbox.root / "state" / "nxuskit" / "nxuskitd.log").read_text()
    assert "no clients for 1s: exiting" in log


def test_an_open_connection_keeps_it_running(sandbox: Sandbox) -> None:
    pid = _autostart(sandbox, "1")
    holder = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    holder.connect(str(sandbox.socket_path))
    try:
        time.sleep(3)  # three idle limits with a client connected
        assert pid in nxuskitd_pids(sandbox)
    finally:
        holder.close()
    assert wait_until(lambda: pid not in nxuskitd_pids(sandbox), timeout=20)


def test_the_default_is_ten_minutes_for_autostart_and_never_by_hand(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    pid = _autostart(sandbox, "")
    import nxuskit

    assert nxuskit.daemon_status()["idle_exit"] == 600.0
    assert pid in nxuskitd_pids(sandbox)
    reset_default()
    subprocess.run(["kill", str(pid)], check=True)
    assert wait_until(lambda: pid not in nxuskitd_pids(sandbox), timeout=10)
    spawn()
    assert nxuskit.daemon_status()["idle_exit"] is None
