"""nxuskit for asyncio: the credential functions as coroutines.

::

    import nxuskit.aio

    resolution = await nxuskit.aio.auth_resolve("openai")     # explicit > env > store
    async with nxuskit.aio.Client(autostart=False) as client:  # a connection of its own
        await client.auth_status("openai")

The same precedence, answers and errors as the blocking functions (``nxuskit.auth``),
and the same trust checks before anything is sent (``nxuskit.trust``: the directory
chain, the private directory, the peer's uid), then ``daemon.hello``. Standard library
only; ``import nxuskit`` does not load asyncio, only ``import nxuskit.aio`` does.

**One connection per Client, pipelined.** Every task of a loop that calls a Client
writes its request line on the Client's one connection at once and awaits the answer
with its id (``nxuskit.aio_connection``), so 1,000 concurrent tasks cost one of the
daemon's connections and no thread. A pool would buy nothing for resolves: the daemon
is one process answering from memory, and it serves one connection's lines in order
but lets other connections in between them. What one connection costs is waiting
behind a slow request (a store read while a keyring is locked, an OAuth refresh), as
the blocking Client's callers do; give slow work a Client of its own. A cancelled or
timed-out task leaves the connection in step: answers are matched by id, never by
position.

**Never blocking the loop.** Connecting, hello and every answer are awaited; starting
a daemon (``nxuskit.autostart``, which waits up to 10 s for it) runs in a worker thread
(``asyncio.to_thread``), and concurrent tasks share that one start. Reading the
environment, the registry (a ``stat`` of config.toml, parsed when it changes) and the
socket's directory chain are the few system calls made on the loop, as the blocking
client makes them.

**Reconnecting.** A connection that ends before an answer is opened anew by the next
call; the requests it took down are sent again only when running them twice is
harmless (``protocol.RETRY_SAFE``), once. ``NXUSKIT_TIMEOUT`` (or ``timeout``) bounds
the wait for each answer and for connecting; an answer that comes too late is dropped,
and the connection stays open for the others. A connection belongs to the loop that
opened it: a Client used on another loop (a second ``asyncio.run``, a forked child)
opens a new one. The module functions use one default Client per running loop,
closed when that loop's tasks are cancelled at its end (as ``asyncio.run`` does).
"""

from __future__ import annotations

import asyncio
import weakref

from nxuskit import paths, precedence, protocol, registry
from nxuskit.aio_connection import Connection, open_connection
from nxuskit.answers import AuthStatus, Removed, Reported, Resolution, Statuses, Stored
from nxuskit.connection import Closed, NotRunning
from nxuskit.errors import DaemonNotRunning, DaemonUnavailable
from nxuskit.reuse import ReuseCache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Client",
    "auth_remove_credential",
    "auth_report_invalid",
    "auth_resolve",
    "auth_set_credential",
    "auth_status",
    "default_client",
    "reset",
]


class Client:
    """A pipelined connection to nxuskitd on the running loop, and the API over it.

    ``socket_path``, ``autostart`` and ``timeout`` as for ``nxuskit.Client``: the socket
    (default: ``NXUSKIT_SOCKET`` or the runtime directory's, looked up at each call),
    whether a missing daemon is started (default: unless ``NXUSKIT_AUTOSTART=0``), and
    the seconds to wait for an answer (default: ``NXUSKIT_TIMEOUT`` or 30).
    """

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        autostart: bool | None = None,
        timeout: float | None = None,
    ) -> None:
        self.socket_path = _absolute(socket_path)
        self.autostart = autostart
        self.timeout = timeout
        self._conn: Connection | None = None
        self._opening: asyncio.Task[Connection] | None = None
        self.reuse = ReuseCache(self.path)
        """Resolves answered from memory while provably current, as ``nxuskit.Client``."""

    def __repr__(self) -> str:
        return f"aio.Client(socket_path={self.socket_path!r}, autostart={self.autostart!r})"

    async def __aenter__(self) -> Client:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    def path(self) -> str:
        """The socket this client talks to (now)."""
        return self.socket_path or paths.socket_path()

    # -- the connection ---------------------------------------------------------------

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Send one JSON-RPC request (``method`` from ``nxuskit.protocol``) and return its
        result. Raises the NxuskitError the daemon answered with, or DaemonUnavailable."""
        for attempt in (1, 2):
            conn = await self._current(method)
            try:
                return await conn.call(method, params)
            except Closed:
                self._forget(conn)
                if attempt == 2 or method not in protocol.RETRY_SAFE:
                    raise DaemonUnavailable(
                        f"nxuskitd at {conn.path} closed the connection before answering "
                        f"{method}; see its log"
                    ) from None
        raise AssertionError("unreachable")

    async def _current(self, method: str) -> Connection:
        loop = asyncio.get_running_loop()
        conn = self._conn
        if conn is not None and (
            conn.loop is not loop
            or conn.path != self.path()
            or (method not in protocol.RETRY_SAFE and conn.stale())
            or conn.closed
        ):
            self._forget(conn)
            conn = None
        if conn is not None:
            return conn
        opening = self._opening
        if opening is None or opening.get_loop() is not loop:
            opening = self._opening = loop.create_task(self._open(self.path()))
            opening.add_done_callback(self._opened)
        # Shielded: a caller cancelled meanwhile leaves the others a connection.
        return await asyncio.shield(opening)

    def _opened(self, opening: asyncio.Task[Connection]) -> None:
        current = self._opening is opening
        if current:
            self._opening = None
        if opening.cancelled() or opening.exception() is not None:
            return  # its waiters raise the error; the next call tries again
        conn = opening.result()
        if not current:  # aclose() (or another loop's opening) came first
            conn.close()
            return
        self._forget(self._conn)
        self._conn = conn
        opening.get_loop().create_task(self._close_at_loop_end(conn))

    async def _open(self, path: str) -> Connection:
        from nxuskit.channel import timeout_from_env

        timeout = self.timeout if self.timeout is not None else timeout_from_env()
        try:
            return await open_connection(path, timeout)
        except NotRunning:
            if not self._may_start():
                why = "" if self.autostart is False else _AUTOSTART_OFF
                raise DaemonNotRunning(
                    f"nxuskitd is not running at {path}{why}: start it with `nxuskit-cli daemon "
                    "start` or `nxuskitd` (or `nxuskit-cli daemon install` for a service)"
                ) from None
        from nxuskit import autostart

        await asyncio.to_thread(autostart.start_daemon, path)
        try:
            return await open_connection(path, timeout)
        except NotRunning:
            raise DaemonUnavailable(f"nxuskitd started but does not answer at {path}") from None

    def _may_start(self) -> bool:
        if self.autostart is not None:
            return self.autostart
        from nxuskit import autostart

        return autostart.enabled()

    def _forget(self, conn: Connection | None) -> None:
        if conn is None:
            return
        if self._conn is conn:
            self._conn = None
        if conn.loop.is_closed():
            conn.abandon()
        elif conn.loop is _running_loop():
            conn.close()
        else:  # another thread's loop owns it: let that loop close it
            conn.loop.call_soon_threadsafe(conn.close)

    async def _close_at_loop_end(self, conn: Connection) -> None:
        """Wait for ``conn`` to end; if its loop cancels its tasks first, at its end (as
        ``asyncio.run`` does), close it, so no socket is left for the garbage collector.
        Either way let go of it: it holds its loop, and the default Client of a loop must
        not keep that loop alive."""
        try:
            await conn.ended.wait()
        finally:
            conn.close()
            if self._conn is conn:
                self._conn = None

    async def aclose(self) -> None:
        """Close the connection (the next call opens a new one); calls still waiting for
        an answer raise DaemonUnavailable."""
        self._opening = None  # a connection still being opened is closed once it is
        self._forget(self._conn)
        self.reuse.clear()

    # -- credentials: explicit, then env, then the daemon's store ---------------------

    async def auth_resolve(self, provider: str, api_key: str | None = None) -> Resolution:
        """Resolve ``provider``'s credential by precedence: ``api_key``, its environment
        variable, then the daemon's store (as ``nxuskit.auth_resolve``, reused from
        memory while provably current: ``nxuskit.reuse``)."""
        if not api_key:
            kept = self.reuse.get(provider)
            if kept is not None:
                return kept
        resolve = precedence.Resolve(self.reuse, provider, api_key)
        if resolve.done is not None:
            return resolve.done
        return resolve.finish(await self.call(protocol.RESOLVE, resolve.params))

    async def auth_status(self, provider: str, api_key: str | None = None) -> AuthStatus:
        """One provider's status, by the same precedence (as ``nxuskit.auth_status``)."""
        spec = registry.load().get(provider)
        local = precedence.status_locally(spec, api_key)
        if local is not None:
            return local
        result = await self.call(protocol.STATUS, {"provider": spec.name})
        entries = {e.provider: e for e in Statuses.from_wire(result, protocol.STATUS).providers}
        return precedence.status_from(spec, entries.get(spec.name))

    async def auth_set_credential(self, provider: str, secret: str) -> Stored:
        """Store ``secret`` as ``provider``'s API key (as ``nxuskit.auth_set_credential``);
        the daemon's answer says whether it replaced a stored credential."""
        from nxuskit.credential import check_secret

        spec = registry.load().get(provider)
        params = {"provider": spec.name, "secret": check_secret(secret)}
        result = await self.call(protocol.SET_CREDENTIAL, params)
        return Stored.from_wire(result, protocol.SET_CREDENTIAL)

    async def auth_remove_credential(self, provider: str) -> bool:
        """Remove ``provider``'s stored credential; True if one was stored (as
        ``nxuskit.auth_remove_credential``: an orphan's exact stored name works too)."""
        reg = registry.load()
        spec = reg.find(provider) if isinstance(provider, str) else reg.get(provider)
        name = provider if spec is None else spec.name  # only the daemon knows the orphans
        result = await self.call(protocol.REMOVE_CREDENTIAL, {"provider": name})
        return Removed.from_wire(result, protocol.REMOVE_CREDENTIAL).removed

    async def auth_report_invalid(self, provider: str, secret: str | None = None) -> bool:
        """Report a rejected token; the daemon refreshes it once. True when a new token is
        ready (as ``nxuskit.auth_report_invalid``; never sent twice)."""
        spec = registry.load().get(provider)
        params: dict[str, Any] = {"provider": spec.name}
        if secret is not None:
            import hashlib

            params["token_sha256"] = hashlib.sha256(secret.encode("utf-8")).hexdigest()
        result = await self.call(protocol.REPORT_INVALID, params)
        return Reported.from_wire(result, protocol.REPORT_INVALID).refreshed


_AUTOSTART_OFF = " (NXUSKIT_AUTOSTART=0 keeps clients from starting it)"


def _absolute(socket_path: str | None) -> str | None:
    """``socket_path`` made absolute (a later chdir must not move it), or None."""
    import os

    return os.path.abspath(socket_path) if socket_path else None


def _running_loop() -> asyncio.AbstractEventLoop | None:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


_defaults: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Client] = (
    weakref.WeakKeyDictionary()
)


def default_client() -> Client:
    """The running loop's Client, which the module functions use."""
    loop = asyncio.get_running_loop()
    client = _defaults.get(loop)
    if client is None:
        client = _defaults[loop] = Client()
    return client


async def reset() -> None:
    """Close the running loop's default Client's connection (the next call opens one)."""
    client = _defaults.get(asyncio.get_running_loop())
    if client is not None:
        await client.aclose()


async def auth_resolve(provider: str, api_key: str | None = None) -> Resolution:
    """Resolve ``provider``'s credential by precedence: explicit, env, store.

    Raises UnknownProvider, NotAuthenticated, and, when the store must be asked,
    DaemonUnavailable, StoreUnavailable, PermissionDenied or VersionMismatch.
    """
    return await default_client().auth_resolve(provider, api_key)


async def auth_status(provider: str, api_key: str | None = None) -> AuthStatus:
    """One provider's status, by the same precedence as resolve; the daemon is asked only
    when neither ``api_key`` nor the environment decides. Raises UnknownProvider,
    DaemonUnavailable, StoreUnavailable, VersionMismatch."""
    return await default_client().auth_status(provider, api_key)


async def auth_set_credential(provider: str, secret: str) -> Stored:
    """Store ``secret`` as ``provider``'s API key (surrounding whitespace trimmed); the
    answer says whether it replaced one.

    Raises UnknownProvider, InvalidArgument, DaemonUnavailable, StoreUnavailable.
    """
    return await default_client().auth_set_credential(provider, secret)


async def auth_remove_credential(provider: str) -> bool:
    """Remove ``provider``'s stored credential; True if one was stored.

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable.
    """
    return await default_client().auth_remove_credential(provider)


async def auth_report_invalid(provider: str, secret: str | None = None) -> bool:
    """Tell the daemon the provider rejected ``secret``; it refreshes once. True when a
    new token is ready (resolve again). Raises NotAuthenticated (log in again),
    LoginFailed, UnknownProvider, DaemonUnavailable."""
    return await default_client().auth_report_invalid(provider, secret)
