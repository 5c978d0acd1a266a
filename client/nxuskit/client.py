"""``Client``: one connection to nxuskitd and the whole credential API over it.

::

    from nxuskit import Client

    with Client() as client:                      # the default socket, autostart allowed
        client.auth_resolve("openai").secret
    Client(autostart=False, timeout=2.0).daemon_status()   # never starts a daemon

The module functions (``nxuskit.auth_resolve`` and the rest) use one default Client per
process. A Client opens its connection on first use (starting the daemon when none runs
and autostart is allowed), keeps it for later calls, opens a new one when the daemon went
away between calls, and never shares one across a fork. A request whose connection closed
before the answer is sent again only when running it twice is harmless
(``protocol.RETRY_SAFE``). Calls from several threads take turns on the one connection.

``connect`` swaps the transport: any callable ``(socket_path, timeout)`` returning an
object with ``call(method, params)`` and ``close()`` (tests pass an in-memory daemon).
"""

from __future__ import annotations

import _thread
import os

from nxuskit import connection, paths, protocol, registry
from nxuskit.answers import (
    AuthStatus,
    Cancelled,
    DaemonStatus,
    Locked,
    LoggedOut,
    Removed,
    Resolution,
    Statuses,
    StoreInfo,
)
from nxuskit.auth import StatusReport, from_env, status_from
from nxuskit.connection import Closed, NotRunning
from nxuskit.errors import DaemonUnavailable, InvalidArgument, NxuskitError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Protocol

    from nxuskit.answers import LoginResult, LoginStart, Migration

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


class Client:
    """A connection to nxuskitd, and the credential API over it.

    ``socket_path``: the daemon's socket (default: ``NXUSKIT_SOCKET`` or the runtime
    directory's, looked up at each call). ``autostart``: start a daemon when none runs
    (default: unless ``NXUSKIT_AUTOSTART=0``). ``timeout``: seconds to wait for an answer
    (default: ``NXUSKIT_TIMEOUT`` or 30). ``connect``: the transport (see the module).
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
        return f"Client(socket_path={self.socket_path!r}, autostart={self.autostart!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- the connection ---------------------------------------------------------------

    def path(self) -> str:
        """The socket this client talks to (now)."""
        return self.socket_path or paths.socket_path()

    def _may_start(self) -> bool:
        if self.autostart is not None:
            return self.autostart
        from nxuskit import autostart

        return autostart.enabled()

    def open_connection(self) -> Transport:
        """A new connection of its own (the caller closes it): for a call that blocks long,
        like waiting for a login, without holding up this client's other calls.

        Raises DaemonUnavailable (none runs and none may be started), PermissionDenied,
        VersionMismatch.
        """
        path = self.path()
        timeout = self.timeout if self.timeout is not None else timeout_from_env()
        try:
            return self._connect(path, timeout)
        except NotRunning:
            if not self._may_start():
                why = (
                    ""
                    if self.autostart is False
                    else " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)"
                )
                raise DaemonUnavailable(
                    f"nxuskitd is not running at {path}{why}: start it with `nxuskit-cli daemon "
                    "start` or `nxuskitd` (or `nxuskit-cli daemon install` for a service)"
                ) from None
        from nxuskit import autostart

        autostart.start_daemon(path)
        try:
            return self._connect(path, timeout)
        except NotRunning:
            raise DaemonUnavailable(f"nxuskitd started but does not answer at {path}") from None

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

    # -- credentials: explicit, then env, then the daemon's store ---------------------

    def auth_resolve(self, provider: str, api_key: str | None = None) -> Resolution:
        """Resolve ``provider``'s credential by precedence: ``api_key``, its environment
        variable, then the daemon's store (``nxuskit.auth_resolve``)."""
        spec = registry.load().get(provider)
        if not spec.requires_auth:
            return Resolution(spec.name, None, None, protocol.NO_AUTH)
        if api_key:
            return Resolution(spec.name, api_key, protocol.SOURCE_EXPLICIT, protocol.API_KEY)
        env_value = from_env(spec)
        if env_value is not None:
            return Resolution(spec.name, env_value, protocol.SOURCE_ENV, protocol.API_KEY)
        result = self.call(protocol.RESOLVE, {"provider": spec.name})
        return Resolution.from_wire(result, protocol.RESOLVE)

    def auth_status(self, provider: str, api_key: str | None = None) -> AuthStatus:
        """One provider's status, by the same precedence (``nxuskit.auth_status``)."""
        spec = registry.load().get(provider)
        if spec.requires_auth and api_key:
            return AuthStatus(
                spec.name,
                protocol.AUTHENTICATED,
                protocol.SOURCE_EXPLICIT,
                list(spec.auth_methods),
                protocol.API_KEY,
                display_name=spec.display_name,
            )
        if not spec.requires_auth or from_env(spec) is not None:
            return status_from(spec, None)
        result = Statuses.from_wire(
            self.call(protocol.STATUS, {"provider": spec.name}), protocol.STATUS
        )
        entries = {entry.provider: entry for entry in result.providers}
        return status_from(spec, entries.get(spec.name))

    def auth_status_all(self) -> list[AuthStatus]:
        """Every known provider's status, in registry order (``nxuskit.auth_status_all``)."""
        return self.auth_status_report().statuses

    def auth_status_report(self, provider: str | None = None) -> StatusReport:
        """Statuses plus the daemon's store (``nxuskit.auth_status_report``)."""
        reg = registry.load()
        specs = reg.providers if provider is None else [reg.get(provider)]
        first = specs[0]
        if provider is not None and (not first.requires_auth or from_env(first) is not None):
            return StatusReport([status_from(first, None)], None)
        params = {} if provider is None else {"provider": first.name}
        result = Statuses.from_wire(self.call(protocol.STATUS, params), protocol.STATUS)
        entries = {entry.provider: entry for entry in result.providers}
        statuses = [status_from(spec, entries.get(spec.name)) for spec in specs]
        return StatusReport(statuses, result.store, result.orphans)

    def auth_set_credential(self, provider: str, secret: str) -> None:
        """Store ``secret`` as ``provider``'s API key (``nxuskit.auth_set_credential``)."""
        from nxuskit.auth import _check_secret

        spec = registry.load().get(provider)
        params = {"provider": spec.name, "secret": _check_secret(secret)}
        self.call(protocol.SET_CREDENTIAL, params)

    def auth_remove_credential(self, provider: str) -> bool:
        """Remove ``provider``'s stored credential; True if one was stored (a known
        provider, or the exact stored name of an orphan: ``StatusReport.orphans``)."""
        reg = registry.load()
        spec = reg.find(provider) if isinstance(provider, str) else reg.get(provider)
        # An unknown name may be an orphan: only the daemon knows what is stored.
        name = provider if spec is None else spec.name
        result = self.call(protocol.REMOVE_CREDENTIAL, {"provider": name})
        return Removed.from_wire(result, protocol.REMOVE_CREDENTIAL).removed

    # -- logins, the store, the daemon (implemented beside their value classes) --------

    def auth_login_start(
        self, provider: str, device: bool = False, timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT
    ) -> LoginStart:
        """Start an OAuth login in the daemon (``nxuskit.auth_login_start``)."""
        from nxuskit import login

        return login.start(self, provider, device, timeout)

    def auth_login_wait(self, login_id: str, timeout: float | None = None) -> LoginResult | None:
        """Wait for a started login (``nxuskit.auth_login_wait``)."""
        from nxuskit import login

        return login.wait(self, login_id, timeout)

    def auth_login_cancel(self, login_id: str) -> bool:
        """Cancel a login in the daemon (``nxuskit.auth_login_cancel``)."""
        result = self.call(protocol.LOGIN_CANCEL, {"login_id": login_id})
        return Cancelled.from_wire(result, protocol.LOGIN_CANCEL).cancelled

    def auth_login(
        self,
        provider: str,
        on_start: Callable[[LoginStart], object] | None = None,
        device: bool = False,
        timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT,
    ) -> LoginResult:
        """Log in and wait for the stored tokens (``nxuskit.auth_login``)."""
        from nxuskit import login

        return login.run(self, provider, on_start, device, timeout)

    def auth_logout(self, provider: str) -> LoggedOut:
        """Revoke and delete ``provider``'s login (``nxuskit.auth_logout``)."""
        spec = registry.load().get(provider)
        result = self.call(protocol.LOGOUT, {"provider": spec.name})
        return LoggedOut.from_wire(result, protocol.LOGOUT)

    def auth_report_invalid(self, provider: str, secret: str | None = None) -> bool:
        """Report a rejected token; the daemon refreshes once (``nxuskit.auth_report_invalid``)."""
        from nxuskit import login

        return login.report_invalid(self, provider, secret)

    def daemon_status(self) -> DaemonStatus:
        """The daemon's pid, version, uptime, socket, store... (``nxuskit.daemon_status``)."""
        result = self.call(protocol.DAEMON_STATUS, {})
        return DaemonStatus.from_wire(result, protocol.DAEMON_STATUS)

    def daemon_lock(self) -> int:
        """Make the daemon forget its cached secrets; how many (``nxuskit.daemon_lock``)."""
        result = self.call(protocol.DAEMON_LOCK, {})
        return Locked.from_wire(result, protocol.DAEMON_LOCK).forgotten

    def store_info(self) -> StoreInfo:
        """The store the daemon uses, and why (``nxuskit.store_info``)."""
        return self.daemon_status().store

    def store_migrate(self, to: str) -> Migration:
        """Move every credential to the ``to`` store (``nxuskit.store_migrate``)."""
        from nxuskit import store

        return store.migrate(self, to)


_default: Client | None = None


def default_client() -> Client:
    """The per-process Client the module functions use."""
    global _default  # noqa: PLW0603 - one default connection per process, by design
    client = _default
    if client is None:
        client = _default = Client()
    return client


def set_default_client(client: Client | None) -> None:
    """Make ``client`` the one the module functions use (None: a new default on next use).
    The previous default's connection is closed."""
    global _default
    previous, _default = _default, client
    if previous is not None and previous is not client:
        previous.close()


def reset_default() -> None:
    """Close the default Client's connection (the next call opens a new one)."""
    if _default is not None:
        _default.close()
