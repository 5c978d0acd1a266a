"""One daemon per socket: a lock file beside the socket, held for the daemon's life.

The lock file holds the holder's pid, so a second daemon can say which one is in its way.
The lock itself is the platform's (``system.try_lock_file``: flock on POSIX), released
by the kernel when the daemon dies, however it dies: a crash never leaves it stuck.
"""

from __future__ import annotations

import contextlib
import os

from nxuskit import paths
from nxuskitd import system
from nxuskitd.errors import StartupError


class InstanceLock:
    """Held from construction until ``release()``."""

    def __init__(self, socket_path: str) -> None:
        self.path = paths.lock_path(socket_path)
        flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
        try:
            self._fd = os.open(self.path, flags, 0o600)
        except OSError as exc:
            raise StartupError(f"cannot open {self.path}: {exc.strerror}") from None
        if not system.try_lock_file(self._fd):
            holder = os.pread(self._fd, 32, 0).decode(errors="replace").strip()
            os.close(self._fd)
            raise StartupError(
                f"another nxuskitd (pid {holder or 'unknown'}) already serves {socket_path}; "
                "stop it first, or use another --socket"
            )
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, f"{os.getpid()}\n".encode(), 0)

    def release(self) -> None:
        """Let the next daemon take over (closing the fd drops the lock)."""
        with contextlib.suppress(OSError):
            os.ftruncate(self._fd, 0)
        os.close(self._fd)
