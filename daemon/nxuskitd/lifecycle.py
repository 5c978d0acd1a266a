"""``serve``: the daemon's life in three phases, as uvicorn's server reads.

1. **Start-up.** Each resource is acquired in turn, and each pushes its own clean-up on
   one exit stack the moment it exists: the socket a service manager handed over, the
   private socket directory, the instance lock and the generation file, the store, the
   audit trail's writer (its queue written at the end), the bound socket file (unlinked
   at the end only if still ours), the listener. A failure at any step unwinds exactly
   what was acquired before it.
2. **Main loop.** ``wire`` has built the parts (credentials, OAuth, daemon state,
   dispatcher, server); the server accepts until a signal, the idle timer or its
   ``stop()`` ends it, beside the signal watcher, the watchdog, the cache sweeper and
   the OAuth manager.
3. **Shutdown.** The server stops accepting and lets requests in flight finish (up to
   ``shutdown_grace``); then the exit stack releases everything in reverse order.

Under systemd or launchd the socket is handed over (``activation``): the daemon serves it
but never binds, chmods or removes its path, which belongs to the service manager; it
tells systemd READY=1 once serving, STOPPING=1 at shutdown, and pings its watchdog. The
instance lock is kept then too: systemd runs one instance of the unit, but a daemon
started by hand (or by a client) on the same path would otherwise share the store.

A caller that passes its own ``listener`` (a test, an embedding program) owns the
process: no socket file, instance lock, signal handlers or systemd notifications then.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import time
from collections.abc import Callable

import anyio
from anyio.abc import TaskStatus

from nxuskit import audit, protocol
from nxuskit.errors import NxuskitError
from nxuskitd import activation, socket_file, system
from nxuskitd.audit import AuditLog
from nxuskitd.credentials import CredentialService
from nxuskitd.dispatch import Dispatcher
from nxuskitd.generation import Generation, open_generation
from nxuskitd.instance_lock import InstanceLock
from nxuskitd.listener import Listener, UnixListener
from nxuskitd.methods import DaemonState, handlers
from nxuskitd.oauth import OAuthManager
from nxuskitd.options import DaemonConfig
from nxuskitd.server import Server
from nxuskitd.stores import Store, open_store

log = logging.getLogger("nxuskitd")


@dataclasses.dataclass(frozen=True)
class Daemon:
    """The parts of a running daemon, as ``wire`` connected them."""

    credentials: CredentialService
    oauth: OAuthManager
    state: DaemonState
    dispatcher: Dispatcher
    server: Server
    audit: AuditLog


def wire(
    config: DaemonConfig, store: Store, reason: str, published: Generation | None = None
) -> Daemon:
    """Build the daemon's parts around ``store`` and connect them, all in plain sight.
    ``published``: the generation file clients map (None: kept in memory only)."""
    credentials = CredentialService(
        store,
        reason,
        config.store_timeout,
        config.config_path,
        cache_idle=config.cache_idle,
        cache_max=config.cache_max,
        data_dir=config.data_dir,
        published=published,
    )
    oauth = OAuthManager(credentials)  # logins run in its task group (the main loop's)
    credentials.refresh_hook = oauth.refresher.fresh  # resolve refreshes expiring tokens
    trail = AuditLog(config.state_dir, config.audit_max_bytes)
    oauth.ended = lambda provider, error: _login_ended(trail, provider, error)
    state = DaemonState(config.socket_path, config.started_by, idle_exit=config.idle_exit)
    dispatcher = Dispatcher(handlers(credentials, state, oauth, trail))
    server = Server(config, dispatcher)
    state.connections = server.connection_count
    return Daemon(credentials, oauth, state, dispatcher, server, trail)


def _login_ended(trail: AuditLog, provider: str, error: NxuskitError | None) -> None:
    """A login's end in the audit trail: the OAuth credential it stored, or why not."""
    if error is None:
        trail.record(audit.LOGIN, provider, protocol.SOURCE_OAUTH, audit.OK)
    else:
        trail.record(audit.LOGIN, provider, None, error.kind)


async def serve(
    config: DaemonConfig,
    listener: Listener | None = None,
    *,
    task_status: TaskStatus[Server] = anyio.TASK_STATUS_IGNORED,
) -> int:
    """Run the daemon described by ``config`` until it is stopped; its exit status.

    Without ``listener`` it serves ``config.socket_path`` (or the socket a service
    manager handed over); with one, it serves that. Started with ``task_group.start``,
    it reports its ``Server`` (whose ``stop()`` ends it) once it serves.
    Raises StartupError (or an NxuskitError from the store) when it cannot start.
    """
    embedded = listener is not None
    async with contextlib.AsyncExitStack() as stack:
        # -- start-up ------------------------------------------------------------------
        activated = None if embedded else _adopt(stack)
        if activated is not None:
            config = dataclasses.replace(
                config, socket_path=activated.path, started_by=activated.manager
            )
        published = None if embedded else _claim_socket_path(stack, config)
        store, reason = open_store(config.store, config.data_dir, config.store_timeout)
        daemon = wire(config, store, reason, published)
        # The store in use at the end: a migration may have replaced the one opened here.
        stack.callback(daemon.credentials.close)
        daemon.audit.open()
        stack.callback(daemon.audit.close)
        if listener is None:
            listener = _listen(stack, config, activated, store, reason)
        else:
            _announce(listener.description, store, reason)
        stack.push_async_callback(listener.aclose)
        notifier = activation.Notifier(None) if embedded else activation.Notifier.from_environment()
        # -- main loop, then shutdown as the stack unwinds ------------------------------
        await _main_loop(config, daemon, listener, notifier, task_status, signals=not embedded)
    log.info("stopped")
    return 0


def _adopt(stack: contextlib.AsyncExitStack) -> activation.ActivatedSocket | None:
    """The socket systemd or launchd handed over, closed on the way out; else None."""
    activated = activation.adopt()
    if activated is not None:
        stack.callback(activated.sock.close)
    return activated


def _claim_socket_path(stack: contextlib.AsyncExitStack, config: DaemonConfig) -> Generation:
    """The socket's private directory, the instance lock beside the socket, and then
    (one daemon per socket: its only writer) the generation file clients map."""
    socket_file.ensure_private_directory(os.path.dirname(config.socket_path))
    stack.callback(InstanceLock(config.socket_path).release)
    published = open_generation(config.socket_path)
    stack.callback(published.close)  # moved once more: clients stop reusing our answers
    return published


def _listen(
    stack: contextlib.AsyncExitStack,
    config: DaemonConfig,
    activated: activation.ActivatedSocket | None,
    store: Store,
    reason: str,
) -> Listener:
    """The socket to serve: the one handed over, or one bound here (0600 from birth, and
    removed at the end if it is still the one bound)."""
    if activated is None:
        sock, identity = socket_file.bind_socket(config.socket_path)
        stack.callback(sock.close)
        stack.callback(socket_file.unlink_if_ours, config.socket_path, identity)
    else:
        sock = activated.sock  # its path is the service manager's: never unlinked here
    # Logged before the socket listens: whoever can connect can also read this line.
    _announce(f"unix:{config.socket_path}", store, reason)
    return UnixListener(sock, config.socket_path)


def _announce(where: str, store: Store, reason: str) -> None:
    log.info("serving %s (pid %d, store: %s, %s)", where, os.getpid(), store.description, reason)


async def _main_loop(
    config: DaemonConfig,
    daemon: Daemon,
    listener: Listener,
    notifier: activation.Notifier,
    task_status: TaskStatus[Server],
    signals: bool,
) -> None:
    server = daemon.server
    async with anyio.create_task_group() as tasks:
        if signals:
            tasks.start_soon(_watch_signals, server, notifier.stopping)
        tasks.start_soon(notifier.keep_watchdog)
        tasks.start_soon(daemon.credentials.expire_forever)
        tasks.start_soon(daemon.credentials.reuse.watch, daemon.credentials.notice_changes)
        tasks.start_soon(daemon.oauth.run)
        tasks.start_soon(daemon.credentials.team.run)  # token renewal, when [team] is set
        if config.idle_exit is not None:
            tasks.start_soon(_exit_when_idle, server, daemon.oauth.busy, config.idle_exit)

        def ready() -> None:
            notifier.ready(f"serving {listener.description}")
            task_status.started(server)

        await server.run(listener, ready)
        tasks.cancel_scope.cancel()


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


def handled_signals() -> frozenset[signal.Signals]:
    """The signals the daemon handles; ``main`` blocks them until ``serve`` listens."""
    return system.stop_signals() | system.reload_signals()


async def _watch_signals(server: Server, on_stop: Callable[[], object]) -> None:
    reload = system.reload_signals()
    with anyio.open_signal_receiver(*handled_signals()) as signals:
        # main() blocked these until now, so one sent during start-up waits here, handled.
        system.unblock_signals(handled_signals())
        async for signum in signals:
            if signum in reload:
                log.info("SIGHUP: config.toml is re-read on its next change; nothing to do")
                continue
            log.info("%s: shutting down", _signal_name(signum))
            on_stop()
            server.stop()
            return


def _signal_name(signum: int) -> str:
    return signal.Signals(signum).name
