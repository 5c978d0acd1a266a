"""The platform seam: the few things the daemon asks of its operating system.

Everything here is a small function whose implementation lives in one module per
platform; only ``nxuskitd.posix`` (Linux, macOS, the BSDs) exists. It is imported on the
first call, so importing any other daemon module needs no ``fcntl``, ``resource`` or
``SIGHUP`` (tests/unit/test_platform_seam.py holds that). docs/windows.md designs the
Windows implementation (named pipes, LockFileEx, Credential Manager); none is built yet.

- ``peer_of(sock)``: the ``Peer`` behind an accepted Unix socket.
- ``try_lock_file(fd)`` / ``lock_file(fd)``: an exclusive lock on an open file,
  released when the descriptor closes (the instance lock, the file store's write lock,
  the OAuth provider lock).
- ``harden_process()``: no core dumps, no ptrace by other processes, private new files.
- ``stop_signals()`` / ``reload_signals()``, ``block_signals`` / ``unblock_signals``:
  which signals end the daemon, and holding them back during start-up.
- ``this_user()``: the daemon's own user, as ``Peer.user`` names users.
- ``detach(socket_path, timeout)``: an autostarted daemon leaves the process its client
  started (which exits once the daemon serves), so it never becomes the client's child.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
from typing import Protocol

from nxuskitd.errors import StartupError
from nxuskitd.peer import Peer


class Platform(Protocol):
    """What a platform's module provides (mypy checks ``nxuskitd.posix`` against it)."""

    STOP_SIGNALS: frozenset[signal.Signals]
    RELOAD_SIGNALS: frozenset[signal.Signals]

    def peer_of(self, sock: socket.socket) -> Peer: ...
    def this_user(self) -> str: ...
    def try_lock_file(self, fd: int) -> bool: ...
    def lock_file(self, fd: int) -> None: ...
    def harden_process(self) -> None: ...
    def block_signals(self, signals: frozenset[signal.Signals]) -> None: ...
    def unblock_signals(self, signals: frozenset[signal.Signals]) -> None: ...
    def detach(self, socket_path: str, timeout: float) -> None: ...


@functools.cache
def _platform() -> Platform:
    if os.name == "posix":
        from nxuskitd import posix

        return posix
    raise StartupError(
        f"nxuskitd does not run on {os.name} yet: docs/windows.md says what is designed "
        "for Windows and what is built"
    )


def peer_of(sock: socket.socket) -> Peer:
    """Who connected on ``sock`` (an accepted connection); ``peer.UNKNOWN`` when the OS
    cannot tell."""
    return _platform().peer_of(sock)


def this_user() -> str:
    """The daemon's user, named as ``Peer.user`` names the peers ("uid 1000")."""
    return _platform().this_user()


def try_lock_file(fd: int) -> bool:
    """Take an exclusive lock on the open file ``fd`` if nobody holds it; whether it did.
    Closing ``fd`` releases it."""
    return _platform().try_lock_file(fd)


def lock_file(fd: int) -> None:
    """Wait for, then take, an exclusive lock on the open file ``fd`` (blocks: call it
    from a worker thread when someone else may hold it long)."""
    _platform().lock_file(fd)


def harden_process() -> None:
    """No core dumps, no ptrace by other processes, private new files, and as many open
    files as the system allows (many clients)."""
    _platform().harden_process()


def stop_signals() -> frozenset[signal.Signals]:
    """The signals that end the daemon in order (SIGTERM, SIGINT)."""
    return _platform().STOP_SIGNALS


def reload_signals() -> frozenset[signal.Signals]:
    """The signals that ask it to re-read its configuration (SIGHUP; config.toml is re-read
    on change anyway, so they are logged and otherwise ignored)."""
    return _platform().RELOAD_SIGNALS


def block_signals(signals: frozenset[signal.Signals]) -> None:
    """Hold ``signals`` back (pending, not lost) until ``unblock_signals``."""
    _platform().block_signals(signals)


def unblock_signals(signals: frozenset[signal.Signals]) -> None:
    """Deliver ``signals`` again, including any that arrived while blocked."""
    _platform().unblock_signals(signals)


def detach(socket_path: str, timeout: float) -> None:
    """Continue in a process of its own; the started one exits once this one serves."""
    _platform().detach(socket_path, timeout)
