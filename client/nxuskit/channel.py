"""``Channel``: one client's line to nxuskitd, under the credential API of ``Client``.

A Channel opens its connection on first use (starting the daemon when none runs and
autostart is allowed), keeps it for later calls, opens a new one when the daemon went
away between calls, and never shares one across a fork. A request whose connection closed
before the answer is sent again only when running it twice is harmless
(``protocol.RETRY_SAFE``). Calls from several threads take turns on the one connection.

``connect`` swaps the transport: any callable ``(socket_path, timeout)`` returning an
object with ``call(method, params)`` and ``close()`` (tests pass an in-memory daemon).
"""

from __future__ import annotations

import _thread
import os

from nxuskit import connection, paths, protocol
from nxuskit.connection import Closed, NotRunning
from nxuskit.errors import DaemonNotRunning, DaemonUnavailable, InvalidArgument, NxuskitError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    class Transport(Protocol):
        """What a Client needs of a connection."""

        def call(self, method: str, params: dict[str, Any]) -> Any: ...
        def close(self) -> None: ...

    Connect = Callable[[str, float], Transport]

DEFAULT_TIMEOUT = 30.0
"""Seconds to wait for the daemon's answer when neither ``timeout`` nor
``NXUSKIT_TIMEOUT`` says otherwise."""

_forks = 0


def _after_fork() -> None:
    global _forks  # noqa: PLW0603 - a child must not share its parent's sockets or locks
    _forks += 1


os.register_at_fork(after_in_child=_after_fork)


def timeout_from_env() -> float:
    """``NXUSKIT_TIMEOUT`` in seconds, else ``DEFAULT_TIMEOUT``.

    Raises InvalidArgument when it is set to something that is not a positive number.
    """
    raw = os.environ.get("NXUSKIT_TIMEOUT", "").strip()
    if not raw:
        return DEFAULT_TIMEOUT
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < 86400:
        raise InvalidArgument(f"NXUSKIT_TIMEOUT={raw!r}: give the seconds to wait, like 30")
    return value


class Channel:
    """The connection part of a ``Client`` (see the module docstring).

    ``socket_path``: the daemon's socket (default: ``NXUSKIT_SOCKET`` or the runtime
    directory's, looked up at each call). ``autostart``: start a daemon when none runs
    (default: unless ``NXUSKIT_AUTOSTART=0``). ``timeout``: seconds to wait for an answer
    (default: ``NXUSKIT_TIMEOUT`` or 30). ``connect``: the transport. ``autostart`` and
    ``timeout`` are plain attributes: set them before the first call to change them.
    """

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        autostart: bool | None = None,
        timeout: float | None = None,
        connect: Connect | None = None,
    ) -> None:
        self.socket_path = os.path.abspath(socket_path) if socket_path else None
        self.autostart = autostart
        self.timeout = timeout
        self._connect: Connect = connect or connection.open_connection
        self._lock = _thread.allocate_lock()
        self._conn: Transport | None = None
        self._conn_path = ""
        self._forks = _forks

    def __repr__(self) -> str:
        name = type(self).__name__
        return f"{name}(socket_path={self.socket_path!r}, autostart={self.autostart!r})"

    def path(self) -> str:
        """The socket this client talks to (now)."""
        return self.socket_path or paths.socket_path()

    def may_start(self) -> bool:
        """Whether this client starts a daemon when none runs: ``autostart``, else
        unless ``NXUSKIT_AUTOSTART=0``."""
        if self.autostart is not None:
            return self.autostart
        from nxuskit import autostart

        return autostart.enabled()

    def wait_limit(self) -> float:
        """Seconds this client waits for an answer: ``timeout``, else ``NXUSKIT_TIMEOUT``,
        else 30. Raises InvalidArgument for an NXUSKIT_TIMEOUT that is no number."""
        return self.timeout if self.timeout is not None else timeout_from_env()

    def open_connection(self) -> Transport:
        """A new connection of its own (the caller closes it): for a call that blocks long,
        like waiting for a login, without holding up this client's other calls.

        Raises DaemonNotRunning (none runs and none may be started), DaemonUnavailable,
        DaemonNotAnswering, PermissionDenied, VersionMismatch.
        """
        path = self.path()
        timeout = self.wait_limit()
        try:
            return self._connect(path, timeout)
        except NotRunning:
            if not self.may_start():
                why = (
                    ""
                    if self.autostart is False
                    else " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)"
                )
                raise DaemonNotRunning(
                    f"nxuskitd is not running at {path}{why}: start it with `nxuskit-cli daemon "
                    "start` or `nxuskitd` (or `nxuskit-cli daemon install` for a service)"
                ) from None
        from nxuskit import autostart

        autostart.start_daemon(path)
        try:
            return self._connect(path, timeout)
        except NotRunning:
            raise DaemonUnavailable(f"nxuskitd started but does not answer at {path}") from None

    def daemon_pid(self) -> int | None:
        """The pid the daemon serving this socket wrote into its instance lock
        (``<socket>.lock``), read without asking the daemon (so it works when the daemon
        does not answer); None when there is none, or that process is gone."""
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
        try:
            descriptor = os.open(paths.lock_path(self.path()), flags)
        except OSError:
            return None
        try:
            text = os.read(descriptor, 32).decode("ascii", "replace").strip()
        finally:
            os.close(descriptor)
        pid = int(text) if text.isdigit() else 0
        if pid <= 1:
            return None
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass  # another user's process: it exists
        return pid

    def _drop(self) -> None:
        if self._conn is not None:
            conn, self._conn = self._conn, None
            conn.close()

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Send one JSON-RPC request (``method`` from ``nxuskit.protocol``) and return its
        result. Raises the NxuskitError the daemon answered with, or DaemonUnavailable."""
        if self._forks != _forks:  # forked: the parent's lock may be held, its socket is its
            self._lock = _thread.allocate_lock()
            self._forks = _forks
            self._drop()  # closing our copy of the descriptor leaves the parent's open
        with self._lock:
            for attempt in (1, 2):
                conn = self._current(method)
                try:
                    return conn.call(method, params)
                except Closed:
                    self._drop()
                    if attempt == 2 or method not in protocol.RETRY_SAFE:
                        raise DaemonUnavailable(
                            f"nxuskitd at {self._conn_path} closed the connection before "
                            f"answering {method}; see its log"
                        ) from None
                except NxuskitError:
                    raise
                except OSError as exc:
                    self._drop()
                    raise connection.unavailable(self._conn_path, exc) from None
        raise AssertionError("unreachable")

    def _current(self, method: str) -> Transport:
        path = self.path()
        conn = self._conn
        if conn is not None and (
            self._conn_path != path
            or (method not in protocol.RETRY_SAFE and getattr(conn, "stale", bool)())
        ):
            self._drop()
            conn = None
        if conn is None:
            conn = self._conn = self.open_connection()
            self._conn_path = path
        return conn

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        with self._lock:
            self._drop()
