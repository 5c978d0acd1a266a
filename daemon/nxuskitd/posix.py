"""The POSIX implementation of ``nxuskitd.system`` (Linux, macOS, the BSDs).

The only daemon module that imports ``fcntl`` and ``resource`` or names ``SIGHUP``: the
rest reach them through ``nxuskitd.system``, so a port to another platform replaces this
module and touches nothing else (docs/windows.md).
"""

from __future__ import annotations

import contextlib
import ctypes
import fcntl
import logging
import os
import resource
import signal
import socket
import struct
import sys
import time

from nxuskitd.peer import UNKNOWN, Peer

log = logging.getLogger("nxuskitd")

STOP_SIGNALS = frozenset((signal.SIGTERM, signal.SIGINT))
RELOAD_SIGNALS = frozenset((signal.SIGHUP,))
_PR_SET_DUMPABLE = 4


# -- who connected -----------------------------------------------------------------


def this_user() -> str:
    """``uid N`` of this process (its effective uid: what the kernel reports of it)."""
    return f"uid {os.geteuid()}"


def _credentials(sock: socket.socket) -> tuple[int | None, int | None]:
    """(pid, uid) of the peer: SO_PEERCRED on Linux, getpeereid on macOS and the BSDs
    (which tells no pid); (None, None) where neither exists."""
    if sys.platform.startswith("linux"):
        raw = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        pid, uid, _gid = struct.unpack("3i", raw)
        if uid < 0:  # no peer (not a connected Unix socket): the kernel says -1
            return None, None
        return (int(pid) if pid > 0 else None), int(uid)
    if sys.platform == "darwin" or "bsd" in sys.platform:
        libc = ctypes.CDLL(None, use_errno=True)
        uid, gid = ctypes.c_uint32(), ctypes.c_uint32()
        if libc.getpeereid(sock.fileno(), ctypes.byref(uid), ctypes.byref(gid)) != 0:
            return None, None
        return None, int(uid.value)
    return None, None


def _executable(pid: int | None) -> str | None:
    """The program ``pid`` runs, where /proc tells (Linux; only for one's own processes)."""
    if pid is None or not sys.platform.startswith("linux"):
        return None
    try:
        return os.readlink(f"/proc/{pid}/exe")
    except OSError:
        return None


def peer_of(sock: socket.socket) -> Peer:
    """The peer of an accepted AF_UNIX connection, as the kernel reports it."""
    try:
        pid, uid = _credentials(sock)
    except OSError:
        return UNKNOWN
    if uid is None:
        return UNKNOWN
    user = f"uid {uid}"
    label = user if pid is None else f"{user} pid {pid}"
    same = uid == os.geteuid()
    # Another user's /proc/PID/exe is unreadable anyway; do not even try.
    return Peer(same, user, label, pid, _executable(pid) if same else None)


# -- file locks ----------------------------------------------------------------------


def try_lock_file(fd: int) -> bool:
    """flock(LOCK_EX | LOCK_NB): False when another open file description holds it."""
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def lock_file(fd: int) -> None:
    """flock(LOCK_EX), waiting as long as it takes."""
    fcntl.flock(fd, fcntl.LOCK_EX)


# -- the process ---------------------------------------------------------------------


def harden_process() -> None:
    """Turn off core dumps and (Linux) ptrace by non-root peers; make new files private;
    raise the open-file limit to its hard maximum so that many clients fit."""
    os.umask(0o077)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                log.warning("could not mark the process non-dumpable")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def detach(socket_path: str, timeout: float) -> None:
    """Go on as a child; this process only waits until that child serves ``socket_path``
    (exit 0) or exits (its status), then exits itself.

    Whoever started nxuskitd (a client's autostart) waits for this process, which ends
    within ``timeout``, so the daemon never lives on as the client's child: no zombie
    when it exits by itself hours later, no subprocess left unwaited in the app.
    """
    child = os.fork()
    if child == 0:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(child, os.WNOHANG)
        if done:
            os._exit(os.waitstatus_to_exitcode(status) or 1)
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(socket_path)
        except OSError:
            time.sleep(0.01)
        else:
            os._exit(0)
        finally:
            probe.close()
    os._exit(1)  # still starting: the client reports the wait, and the log says why


def block_signals(signals: frozenset[signal.Signals]) -> None:
    """pthread_sigmask(SIG_BLOCK): a signal sent meanwhile stays pending, not lost."""
    signal.pthread_sigmask(signal.SIG_BLOCK, signals)


def unblock_signals(signals: frozenset[signal.Signals]) -> None:
    """pthread_sigmask(SIG_UNBLOCK): pending ones are delivered now."""
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)
