"""Starting the daemon on demand, the way gpg's tools start gpg-agent.

When no daemon answers, the client takes a lock beside the socket, checks again (another
client may have started one meanwhile), starts ``python -m nxuskitd`` detached with its
log in the state directory, and waits until the socket answers. Concurrent clients thus
start exactly one daemon. ``NXUSKIT_AUTOSTART=0`` turns this off.
"""

from __future__ import annotations

import os
import socket
import sys
import time

from nxuskit import paths
from nxuskit.errors import DaemonUnavailable

START_TIMEOUT = 10.0


def enabled() -> bool:
    """Whether the client may start the daemon (``NXUSKIT_AUTOSTART`` is not 0/false/no)."""
    return os.environ.get("NXUSKIT_AUTOSTART", "1").strip().lower() not in ("0", "false", "no")


def answers(path: str) -> bool:
    """Whether something accepts connections at ``path`` (a daemon, or one starting)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _last_line(log: str) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2048))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def start_daemon(path: str) -> None:
    """Start nxuskitd for ``path`` unless one answers there; return once it answers."""
    import fcntl
    import subprocess

    directory = os.path.dirname(path)
    os.makedirs(directory, mode=0o700, exist_ok=True)
    lock_fd = os.open(paths.start_lock_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if answers(path):
            return
        log_dir = paths.state_dir()
        os.makedirs(log_dir, mode=0o700, exist_ok=True)
        log = os.path.join(log_dir, "nxuskitd.log")
        log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
        try:
            child = subprocess.Popen(
                [sys.executable, "-m", "nxuskitd", "--socket", path, "--started-by", "autostart"],
                stdin=subprocess.DEVNULL,
                stdout=log_fd,
                stderr=log_fd,
                start_new_session=True,
                close_fds=True,
            )
        finally:
            os.close(log_fd)
        deadline = time.monotonic() + START_TIMEOUT
        delay = 0.005
        while time.monotonic() < deadline:
            if answers(path):
                return
            code = child.poll()
            if code is not None:
                detail = _last_line(log)
                raise DaemonUnavailable(
                    f"nxuskitd exited at start (code {code})"
                    + (f": {detail}" if detail else "")
                    + f"; its log is {log}"
                )
            time.sleep(delay)
            delay = min(delay * 2, 0.1)
        raise DaemonUnavailable(
            f"nxuskitd did not answer at {path} within {START_TIMEOUT:.0f}s; its log is {log}"
        )
    finally:
        os.close(lock_fd)
