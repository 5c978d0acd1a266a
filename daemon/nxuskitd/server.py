"""``serve``: start-up, the accept loop, and an orderly shutdown.

Start-up: private socket directory, instance lock, store, socket (0600 from birth).
Loop: each accepted connection is checked (peer uid, connection cap) and served in its
own task. Shutdown, on SIGTERM or SIGINT: stop accepting, let requests in flight finish
(up to ``shutdown_grace``), remove the socket this daemon created, release the lock.

Under systemd or launchd the socket is handed over (``activation``): the daemon serves it
but never binds, chmods or removes its path, which belongs to the service manager; it
tells systemd READY=1 once serving, STOPPING=1 at shutdown, and pings its watchdog. The
instance lock is kept then too: systemd runs one instance of the unit, but a daemon
started by hand (or by a client) on the same path would otherwise share the store.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable

import anyio
from anyio.abc import ByteStream, TaskGroup

from nxuskit.errors import DaemonBusy, PermissionDenied
from nxuskitd import activation, runtime
from nxuskitd.config import DaemonConfig
from nxuskitd.connection import ClientConnection
from nxuskitd.dispatch import Dispatcher, encode
from nxuskitd.listener import Listener, UnixListener
from nxuskitd.methods import DaemonState, handlers
from nxuskitd.oauth import OAuthManager
from nxuskitd.ratelimit import RateLimitedLog
from nxuskitd.service import CredentialService
from nxuskitd.stores import open_store

log = logging.getLogger("nxuskitd")
REFUSAL_LOG_INTERVAL = 10.0
"""Refused connections of one kind (one foreign uid, or the connection limit) are logged
at most once per this many seconds, with a count of those left out."""
STOP_SIGNALS = frozenset((signal.SIGTERM, signal.SIGINT, signal.SIGHUP))
"""Signals the daemon handles; ``main`` blocks them until ``serve`` listens for them."""


class Server:
    """Accepts connections from one listener and serves them with one dispatcher."""

    def __init__(self, config: DaemonConfig, listener: Listener, dispatcher: Dispatcher) -> None:
        self.config = config
        self.listener = listener
        self.dispatcher = dispatcher
        self.connections: set[ClientConnection] = set()
        self.last_activity = time.monotonic()
        """When a connection last opened or closed (``time.monotonic()``)."""
        self.refusals = RateLimitedLog(log, REFUSAL_LOG_INTERVAL)
        """Anyone on the machine can connect, and be refused, as fast as they like: one
        line per refusal would let them fill the disk and bury everything else."""
        self._uid = os.getuid()
        self._stop = anyio.Event()

    def stop(self) -> None:
        """Begin an orderly shutdown."""
        self._stop.set()

    async def run(self, on_ready: Callable[[], None] | None = None) -> None:
        """Serve until ``stop()``; then finish in-flight requests and return."""
        async with anyio.create_task_group() as tasks:
            accepting = anyio.CancelScope()
            tasks.start_soon(self._accept_until_stopped, tasks, accepting)
            tasks.start_soon(self._sweep)
            if on_ready is not None:
                on_ready()
            await self._stop.wait()
            accepting.cancel()
            await self.listener.aclose()
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

    async def _accept_until_stopped(self, tasks: TaskGroup, scope: anyio.CancelScope) -> None:
        with scope:
            while True:
                try:
                    stream, uid = await self.listener.accept()
                except OSError as exc:  # EMFILE and friends: back off, keep serving
                    log.warning("accept failed: %s", exc.strerror)
                    await anyio.sleep(0.1)
                    continue
                tasks.start_soon(self._serve, stream, uid)

    async def _refuse(self, stream: ByteStream, error: Exception) -> None:
        wire = error.to_wire() if isinstance(error, (DaemonBusy, PermissionDenied)) else {}
        try:
            with anyio.move_on_after(1.0):
                await stream.send(encode({"jsonrpc": "2.0", "id": None, "error": wire}))
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass
        finally:
            await stream.aclose()

    async def _serve(self, stream: ByteStream, uid: int | None) -> None:
        if uid != self._uid:
            self.refusals.warning(
                f"uid {uid}",
                f"refused a connection from uid {uid} (this daemon serves uid {self._uid})",
            )
            await self._refuse(
                stream,
                PermissionDenied(
                    f"this nxuskitd serves uid {self._uid} only; start your own daemon"
                ),
            )
            return
        if len(self.connections) >= self.config.max_connections:
            self.refusals.warning(
                "busy", f"refused a connection: {len(self.connections)} open, the limit"
            )
            await self._refuse(
                stream,
                DaemonBusy(
                    "nxuskitd is at its connection limit; retry, or raise --max-connections"
                ),
            )
            return
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


async def serve(config: DaemonConfig) -> int:
    """Run the daemon described by ``config``; the exit status when it ends."""
    activated = activation.adopt()
    if activated is not None:
        config = dataclasses.replace(
            config, socket_path=activated.path, started_by=activated.manager
        )
    notifier = activation.Notifier.from_environment()
    socket_dir = os.path.dirname(config.socket_path)
    try:
        runtime.ensure_private_directory(socket_dir)
        lock = runtime.InstanceLock(config.socket_path)
    except BaseException:
        if activated is not None:
            activated.sock.close()
        raise
    try:
        store, reason = open_store(config.store, config.data_dir, config.store_timeout)
        service = CredentialService(
            store,
            reason,
            config.store_timeout,
            config.config_path,
            cache_idle=config.cache_idle,
            cache_max=config.cache_max,
            data_dir=config.data_dir,
        )
        if activated is None:
            sock, identity = runtime.bind_socket(config.socket_path)
        else:
            sock, identity = activated.sock, None
        # Logged before the socket listens: whoever can connect can also read this line.
        log.info(
            "serving unix:%s (pid %d, store: %s, %s)",
            config.socket_path,
            os.getpid(),
            store.description,
            reason,
        )
        listener = await UnixListener.from_socket(sock, config.socket_path)
        state = DaemonState(config.socket_path, config.started_by, idle_exit=config.idle_exit)
        oauth = OAuthManager(service)  # logins run in its task group, started below
        server = Server(config, listener, Dispatcher(handlers(service, state, oauth)))
        state.connections = lambda: len(server.connections)
        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(_watch_signals, server, notifier.stopping)
                tasks.start_soon(notifier.keep_watchdog)
                tasks.start_soon(service.expire_forever)
                tasks.start_soon(oauth.run)
                if config.idle_exit is not None:
                    tasks.start_soon(_exit_when_idle, server, oauth.busy, config.idle_exit)

                def ready() -> None:
                    notifier.ready(f"serving {listener.description}")

                await server.run(ready)
                tasks.cancel_scope.cancel()
        finally:
            if identity is not None:  # an adopted socket's path is the service manager's
                runtime.unlink_if_ours(config.socket_path, identity)
            service.store.close()
        log.info("stopped")
        return 0
    finally:
        lock.release()


async def _exit_when_idle(server: Server, busy: Callable[[], bool], limit: float) -> None:
    """Stop the daemon once it has had no client, login or refresh for ``limit`` seconds
    (a daemon a client started; the next client starts another)."""
    while True:
        await anyio.sleep(min(1.0, limit / 4))
        if server.connections or busy():
            server.last_activity = time.monotonic()
        elif time.monotonic() - server.last_activity >= limit:
            log.info("no clients for %gs: exiting (the next client starts nxuskitd again)", limit)
            server.stop()
            return


async def _watch_signals(server: Server, on_stop: Callable[[], object]) -> None:
    with anyio.open_signal_receiver(signal.SIGTERM, signal.SIGINT, signal.SIGHUP) as signals:
        # main() blocked these until now, so one sent during start-up waits here, handled.
        if hasattr(signal, "pthread_sigmask"):
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        async for signum in signals:
            if signum == signal.SIGHUP:
                log.info("SIGHUP: config.toml is re-read on its next change; nothing to do")
                continue
            log.info("%s: shutting down", signal.Signals(signum).name)
            on_stop()
            server.stop()
            return
