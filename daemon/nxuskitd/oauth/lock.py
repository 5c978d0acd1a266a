"""The lock that keeps a provider's OAuth record consistent across daemons.

Two daemons may share one store (the file store is shareable: different sockets, one
XDG_DATA_HOME). A rotating refresh token spent by both gets the whole grant revoked at
many servers, so every change of an OAuth record (a refresh, a new login, a logout, the
clean-up after a dead grant) runs under an exclusive lock on ``oauth-NAME.lock`` in the
daemon's data directory: re-read the record, talk to the server, write, all while
holding it. Within one daemon the refresher's single flight already shares a refresh,
so the lock is taken once per flight.

Another daemon can hold the lock for as long as its refresh takes, so a blocking
attempt runs in a worker thread, bounded by a timeout: the event loop never waits on
the lock. A thread whose caller gave up releases the lock the moment it gets it. The
lock itself is the platform's (``nxuskitd.system``: flock on POSIX).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import threading
from collections.abc import AsyncIterator

import anyio
import anyio.to_thread

from nxuskit.errors import LoginFailed, PermissionDenied, StoreUnavailable
from nxuskitd import data_directory, system

LOCK_TIMEOUT = 60.0
"""How long to wait for another daemon's refresh (its own limit is 30 s) plus its write."""

_PLAIN_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")


class LockBusy(LoginFailed):
    """Another process held the lock for longer than the caller would wait."""


@contextlib.asynccontextmanager
async def provider_lock(
    data_dir: str | None, provider: str, timeout: float = LOCK_TIMEOUT
) -> AsyncIterator[None]:
    """Hold ``provider``'s OAuth lock; LockBusy after ``timeout`` seconds.

    A daemon without a data directory (some tests) locks within its process only.
    """
    if data_dir is None:
        yield
        return
    fd = await anyio.to_thread.run_sync(open_lock_file, data_dir, provider)
    attempt = _Attempt(fd)
    try:
        with anyio.fail_after(timeout):
            await attempt.acquire()
    except TimeoutError:
        attempt.give_up()
        raise LockBusy(
            f"another nxuskitd has held the {provider} login's lock for {timeout:g}s "
            f"({lock_path(data_dir, provider)}); retry later"
        ) from None
    except BaseException:
        attempt.give_up()
        raise
    try:
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


def lock_path(data_dir: str, provider: str) -> str:
    """Where ``provider``'s lock file lives (a hash stands in for an unusual name)."""
    name = provider if _PLAIN_NAME.fullmatch(provider) else _digest(provider)
    return os.path.join(data_dir, f"oauth-{name}.lock")


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def open_lock_file(data_dir: str, provider: str) -> int:
    """A descriptor of the lock file, created 0600 in a checked 0700 directory; never
    through a symlink, never a file another user owns."""
    data_directory.ensure_private(data_dir)
    path = lock_path(data_dir, provider)
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise StoreUnavailable(
            f"cannot open the lock file {path}: {exc.strerror}; move it away"
        ) from None
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
        os.close(fd)
        raise PermissionDenied(f"{path} is not a file of yours: move it away")
    return fd


class _Attempt:
    """One try at the lock on ``fd``, and who closes ``fd`` if its caller gives up:
    the caller while no thread waits on the lock, else the thread once it has it."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._mutex = threading.Lock()
        self._abandoned = False
        self._blocked = False  # a worker thread waits for the lock on fd

    async def acquire(self) -> None:
        if not system.try_lock_file(self.fd):  # held elsewhere: wait in a thread
            await anyio.to_thread.run_sync(self._block, abandon_on_cancel=True)

    def _block(self) -> None:
        with self._mutex:
            if self._abandoned:
                return  # the caller gave up before this thread began
            self._blocked = True
        system.lock_file(self.fd)
        with self._mutex:
            self._blocked = False
            if self._abandoned:
                os.close(self.fd)  # got it too late: let the next one have it

    def give_up(self) -> None:
        """The caller stops waiting (timeout or cancellation)."""
        with self._mutex:
            self._abandoned = True
            if self._blocked:
                return  # the thread closes fd when flock returns
        os.close(self.fd)
