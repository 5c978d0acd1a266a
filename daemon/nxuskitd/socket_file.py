"""The socket file: its private directory, binding it 0600, the stale-socket probe, and
removing it at shutdown (only if it is still the one this daemon bound).

The directory is created 0700 and must be ours, a real directory (not a symlink) and
closed to others, below a chain of directories no other user can change; the daemon
refuses to start on anything looser (the rules are ``nxuskit.trust``'s, which clients
apply too). The socket is bound
under a umask that makes it 0600 from birth. A socket file left by a crashed daemon is
replaced only when a connect probe finds nobody behind it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import socket
import stat

from nxuskit import trust
from nxuskit.errors import PermissionDenied
from nxuskitd.errors import StartupError


def ensure_private_directory(directory: str) -> None:
    """Create ``directory`` 0700 (missing parents too), or check that an existing one is
    ours, a real directory and closed to others; and check the whole chain of directories
    above it (``nxuskit.trust``: the clients apply the same rules before they connect).

    Raises StartupError saying what is wrong and what to do.
    """
    try:
        trust.make_private_directory(directory)
    except PermissionDenied as exc:
        raise StartupError(str(exc)) from None
    except OSError as exc:
        raise StartupError(f"cannot create {directory}: {exc.strerror}") from None


def _someone_listens(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    probe.settimeout(1.0)
    try:
        probe.connect(path)
    except OSError as exc:
        # Refused or gone: stale. Anything else we cannot judge: never take it over.
        return exc.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    finally:
        probe.close()
    return True


def bind_socket(path: str) -> tuple[socket.socket, tuple[int, int]]:
    """A Unix socket bound at ``path``, 0600 from birth, and its (dev, inode); the listener
    starts listening on it (after the start-up line is logged).

    A stale socket file (nobody behind it) is replaced; a live one, or anything that is
    not a socket, is an error.
    """
    if len(os.fsencode(path)) >= 104:
        raise StartupError(f"socket path too long for AF_UNIX ({len(path)} bytes): {path}")
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        pass
    else:
        if not stat.S_ISSOCK(st.st_mode):
            raise StartupError(f"{path} exists and is not a socket: move it away")
        if _someone_listens(path):
            raise StartupError(f"a daemon already answers on {path}: stop it first")
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)
    try:
        sock.bind(path)
    except OSError as exc:
        sock.close()
        raise StartupError(f"cannot bind {path}: {exc.strerror}") from None
    finally:
        os.umask(old_umask)
    st = os.lstat(path)
    return sock, (st.st_dev, st.st_ino)


def unlink_if_ours(path: str, identity: tuple[int, int]) -> None:
    """Remove the socket file at ``path`` if it is still the one this daemon bound."""
    with contextlib.suppress(OSError):
        st = os.lstat(path)
        if (st.st_dev, st.st_ino) == identity:
            os.unlink(path)
