"""The wire's method names bound to the daemon's parts: its whole public surface.

Each handler returns its method's answer shape (``nxuskit.answers.RESULTS``); the
dispatcher encodes it with ``to_wire()``. ``handlers`` refuses to build a table that
leaves a method of ``nxuskit.protocol.PARAMS`` without a handler, so a method added to
the contract and forgotten here stops the daemon at start-up, not a client at run time.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from nxuskit import __version__, protocol
from nxuskit.answers import Answer, DaemonStatus, Hello
from nxuskitd.audit import AuditLog
from nxuskitd.audited import audited
from nxuskitd.credentials import CredentialService
from nxuskitd.dispatch import Handler
from nxuskitd.oauth import OAuthManager
from nxuskitd.oauth.methods import oauth_handlers
from nxuskitd.team.methods import team_handlers


class MissingHandler(Exception):
    """A method of the contract has no handler (a bug: the daemon must not start)."""


@dataclasses.dataclass
class DaemonState:
    """What ``daemon.hello`` and ``daemon.status`` report about the running daemon."""

    socket: str
    started_by: str
    started_at: float = dataclasses.field(default_factory=time.time)
    connections: Callable[[], int] = lambda: 0
    idle_exit: float | None = None

    def hello(self, service: CredentialService) -> Hello:
        """Identity and protocol: what a client checks first."""
        return Hello(protocol.PROTOCOL_VERSION, __version__, os.getpid(), service.store_info())

    def status(self, service: CredentialService, oauth: OAuthManager) -> DaemonStatus:
        """Everything ``nxuskit-cli daemon status`` shows (the team store as the daemon
        last saw it: this never asks it)."""
        return DaemonStatus(
            protocol.PROTOCOL_VERSION,
            __version__,
            os.getpid(),
            service.store_info(),
            socket=self.socket,
            started_by=self.started_by,
            uptime=round(time.time() - self.started_at, 3),
            connections=self.connections(),
            cache=service.cache_info(),
            idle_exit=self.idle_exit,
            logins=oauth.counts(),
            team=service.team.info(service.load_registry()),
        )


def handlers(
    service: CredentialService,
    state: DaemonState,
    oauth: OAuthManager | None = None,
    trail: AuditLog | None = None,
) -> dict[str, Handler]:
    """Every method in ``nxuskit.protocol.PARAMS``, each bound to its service call.

    ``oauth`` serves the login methods; ``lifecycle.wire`` passes the one whose ``run``
    the daemon starts (without it, as in some tests, logins answer login_failed).
    ``trail`` records the credential accesses (``nxuskitd.audited``; without it, none).
    Raises MissingHandler when a method of the contract has none.
    """
    manager = oauth or OAuthManager(service)
    audit_log = trail or AuditLog(None)

    async def hello(params: Any) -> Answer:
        return state.hello(service)

    async def daemon_status(params: Any) -> Answer:
        return state.status(service, manager)

    async def resolve(params: Any) -> Answer:
        return await service.resolve(params.provider, reuse=bool(params.reuse))

    async def status(params: Any) -> Answer:
        return await service.status(params.provider)

    async def set_credential(params: Any) -> Answer:
        return await service.set_credential(params.provider, params.secret)

    async def remove_credential(params: Any) -> Answer:
        return await service.remove_credential(params.provider)

    async def provider_list(params: Any) -> Answer:
        return service.providers()

    async def daemon_lock(params: Any) -> Answer:
        return service.lock()

    async def store_migrate(params: Any) -> Answer:
        return await service.migrate_store(params.to)

    async def audit_query(params: Any) -> Answer:
        reg = service.load_registry()
        return await audit_log.query(reg, params.provider, params.since, params.limit)

    bound: dict[str, Handler] = {
        protocol.HELLO: hello,
        protocol.DAEMON_STATUS: daemon_status,
        protocol.RESOLVE: resolve,
        protocol.STATUS: status,
        protocol.SET_CREDENTIAL: set_credential,
        protocol.REMOVE_CREDENTIAL: remove_credential,
        protocol.PROVIDER_LIST: provider_list,
        protocol.DAEMON_LOCK: daemon_lock,
        protocol.STORE_MIGRATE: store_migrate,
        protocol.AUDIT_QUERY: audit_query,
    }
    bound.update(oauth_handlers(manager))
    bound.update(team_handlers(service.team, service.load_registry))
    bound = audited(bound, audit_log, service.load_registry)
    check_complete(bound)
    return bound


def check_complete(bound: dict[str, Handler]) -> None:
    """Raise MissingHandler when a method of ``nxuskit.protocol.PARAMS`` has no handler
    (a raise, not an assert: it must hold under ``python -O`` too)."""
    missing = sorted(set(protocol.PARAMS) - set(bound))
    if missing:
        raise MissingHandler(f"methods in the contract without a handler: {', '.join(missing)}")
