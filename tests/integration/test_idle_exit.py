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


_APP = """
import os, sys
import nxuskit
from nxuskit.client import reset_default
print(nxuskit.daemon_status()["pid"], flush=True)
reset_default()  # let the daemon go idle
sys.stdin.readline()  # until the test saw it exit
try:
    os.waitpid(-1, os.WNOHANG)
    print("the daemon was this app's child")
except ChildProcessError:
    print("no child")
"""


def test_an_app_that_started_the_daemon_is_never_its_parent(sandbox: Sandbox) -> None:
    """The daemon leaves the process its client started: when it exits by itself, no
    zombie is left in the app, and the app has no child process left running."""
    env = {**sandbox.env, "NXUSKIT_AUTOSTART": "1", "NXUSKIT_IDLE_EXIT": "1"}
    pipe = subprocess.PIPE
    app = subprocess.Popen([sys.executable, "-W", "error", "-c", _APP], env=env, text=True,
                           stdin=pipe, stdout=pipe, stderr=pipe)  # fmt: skip
    assert app.stdout is not None
    assert app.stdin is not None
    pid = int(app.stdout.readline())
    assert wait_until(lambda: pid not in nxuskitd_pids(sandbox), timeout=20)
    out, err = app.communicate("go\n", timeout=30)
    assert app.returncode == 0, err
    assert out.strip() == "no child"
