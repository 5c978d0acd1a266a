"""The wire's method names bound to the service: the daemon's whole public surface."""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from typing import Any

from nxuskit import protocol
from nxuskitd import __version__
from nxuskitd.dispatch import Handler
from nxuskitd.oauth import OAuthManager
from nxuskitd.oauth.methods import oauth_handlers
from nxuskitd.service import CredentialService


@dataclasses.dataclass
class DaemonState:
    """What ``daemon.hello`` and ``daemon.status`` report about the running daemon."""

    socket: str
    started_by: str
    started_at: float = dataclasses.field(default_factory=time.time)
    connections: Callable[[], int] = lambda: 0
    idle_exit: float | None = None

    def hello(self, service: CredentialService) -> dict[str, Any]:
        """Identity and protocol: what a client checks first."""
        return {
            "protocol": protocol.PROTOCOL_VERSION,
            "version": __version__,
            "pid": os.getpid(),
            "store": service.store_info(),
        }

    def status(self, service: CredentialService) -> dict[str, Any]:
        """Everything ``nxuskit-cli daemon status`` shows."""
        return {
            **self.hello(service),
            "socket": self.socket,
            "started_by": self.started_by,
            "uptime": round(time.time() - self.started_at, 3),
            "connections": self.connections(),
            "cache": service.cache_info(),
            "idle_exit": self.idle_exit,
        }


def handlers(
    service: CredentialService, state: DaemonState, oauth: OAuthManager | None = None
) -> dict[str, Handler]:
    """Every method in ``nxuskit.protocol.PARAMS``, each bound to its service call.

    ``oauth`` serves the login methods; the server passes the one whose ``run`` it
    started (without it, logins answer login_failed, and refresh still works).
    """

    async def hello(params: Any) -> Any:
        return state.hello(service)

    manager = oauth or OAuthManager(service)

    async def daemon_status(params: Any) -> Any:
        return {**state.status(service), "logins": manager.counts()}

    async def resolve(params: Any) -> Any:
        return await service.resolve(params.provider)

    async def status(params: Any) -> Any:
        return await service.status(params.provider)

    async def set_credential(params: Any) -> Any:
        return await service.set_credential(params.provider, params.secret)

    async def remove_credential(params: Any) -> Any:
        return await service.remove_credential(params.provider)

    async def provider_list(params: Any) -> Any:
        return service.providers()

    async def daemon_lock(params: Any) -> Any:
        return service.lock()

    async def store_migrate(params: Any) -> Any:
        return await service.migrate_store(params.to)

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
    }
    bound.update(oauth_handlers(manager))
    missing = set(protocol.PARAMS) - set(bound)
    assert not missing, f"methods in the contract without a handler: {missing}"
    return bound
