"""The accept loop: who may connect, how many at once, and an orderly stop.

Each accepted connection is checked (the peer is this daemon's user; the connection
cap) and served in its own task. ``stop()`` ends accepting, lets requests in flight
finish (up to ``shutdown_grace``), then returns from ``run``. One sweeper task judges
every connection's deadlines (see ``ClientConnection.check``): one timer for all,
rather than a cancel scope around every read and write.

Where the daemon's life begins and ends (sockets, locks, the store, signals) is
``lifecycle``'s.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

import anyio
from anyio.abc import ByteStream, TaskGroup

from nxuskit.errors import DaemonBusy, NxuskitError, PermissionDenied
from nxuskitd import system
from nxuskitd.connection import ClientConnection
from nxuskitd.dispatch import Dispatcher, encode, error_answer
from nxuskitd.listener import Listener
from nxuskitd.options import DaemonConfig
from nxuskitd.peer import CURRENT, Peer
from nxuskitd.ratelimit import RateLimitedLog

log = logging.getLogger("nxuskitd")
REFUSAL_LOG_INTERVAL = 10.0
"""Refused connections of one kind (one foreign user, or the connection limit) are logged
at most once per this many seconds, with a count of those left out."""


class Server:
    """Accepts connections from a listener and serves them with one dispatcher."""

    def __init__(self, config: DaemonConfig, dispatcher: Dispatcher) -> None:
        self.config = config
        self.dispatcher = dispatcher
        self.connections: set[ClientConnection] = set()
        self.last_activity = time.monotonic()
        """When a connection last opened or closed (``time.monotonic()``)."""
        self.refusals = RateLimitedLog(log, REFUSAL_LOG_INTERVAL)
        """Anyone on the machine can connect, and be refused, as fast as they like: one
        line per refusal would let them fill the disk and bury everything else."""
        self._stop = anyio.Event()

    def connection_count(self) -> int:
        """How many connections are open now (for ``daemon.status``)."""
        return len(self.connections)

    def stop(self) -> None:
        """Begin an orderly shutdown."""
        self._stop.set()

    async def run(self, listener: Listener, on_ready: Callable[[], None] | None = None) -> None:
        """Serve ``listener`` until ``stop()``; then finish in-flight requests and return."""
        async with anyio.create_task_group() as tasks:
            accepting = anyio.CancelScope()
            tasks.start_soon(self._accept_until_stopped, listener, tasks, accepting)
            tasks.start_soon(self._sweep)
            if on_ready is not None:
                on_ready()
            await self._stop.wait()
            accepting.cancel()
            await listener.aclose()
            for connection in list(self.connections):
                connection.stop()
            with anyio.move_on_after(self.config.shutdown_grace):
                while self.connections:
                    await anyio.sleep(0.01)
            tasks.cancel_scope.cancel()

    async def _sweep(self) -> None:
        """End connections that broke a time limit (see ``ClientConnection.check``)."""
        limits = [self.config.partial_timeout, self.config.idle_timeout or 4.0]
        interval = min(1.0, *(limit / 4 for limit in limits))
        while True:
            await anyio.sleep(interval)
            now = time.monotonic()
            for connection in list(self.connections):
                connection.check(now)
            self.refusals.flush()

    async def _accept_until_stopped(
        self, listener: Listener, tasks: TaskGroup, scope: anyio.CancelScope
    ) -> None:
        with scope:
            while True:
                try:
                    stream, peer = await listener.accept()
                except OSError as exc:  # EMFILE and friends: back off, keep serving
                    log.warning("accept failed: %s", exc.strerror)
                    await anyio.sleep(0.1)
                    continue
                tasks.start_soon(self._serve, stream, peer)

    async def _refuse(self, stream: ByteStream, error: NxuskitError) -> None:
        try:
            with anyio.move_on_after(1.0):
                await stream.send(encode(error_answer(None, error)))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            await stream.aclose()

    def _admission(self, peer: Peer) -> NxuskitError | None:
        """Why ``peer`` may not be served now (logged, rate-limited), or None."""
        if not peer.same_user:
            me = system.this_user()
            self.refusals.warning(
                peer.user, f"refused a connection from {peer.label} (this daemon serves {me})"
            )
            return PermissionDenied(f"this nxuskitd serves {me} only; start your own daemon")
        if len(self.connections) >= self.config.max_connections:
            self.refusals.warning(
                "busy", f"refused a connection: {len(self.connections)} open, the limit"
            )
            return DaemonBusy(
                "nxuskitd is at its connection limit; retry, or raise --max-connections"
            )
        return None

    async def _serve(self, stream: ByteStream, peer: Peer) -> None:
        refusal = self._admission(peer)
        if refusal is not None:
            await self._refuse(stream, refusal)
            return
        CURRENT.set(peer)  # this connection's task only: each task has its own context
        connection = ClientConnection(
            stream,
            self.dispatcher,
            self.config.max_message,
            self.config.partial_timeout,
            self.config.idle_timeout,
        )
        self.connections.add(connection)
        self.last_activity = time.monotonic()
        try:
            await connection.serve()
        except Exception:  # a bug met by one client must not take the daemon down for all
            log.exception("a connection failed; the daemon keeps serving")
        finally:
            self.connections.discard(connection)
            self.last_activity = time.monotonic()
