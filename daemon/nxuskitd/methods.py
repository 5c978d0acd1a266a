"""The wire's method names bound to the service: the daemon's whole public surface."""

from __future__ import annotations

import time
from typing import Any

from nxuskit import protocol
from nxuskitd.dispatch import Handler
from nxuskitd.service import CredentialService


def handlers(service: CredentialService, started_by: str) -> dict[str, Handler]:
    """Every method in ``nxuskit.protocol.PARAMS``, each bound to its service call."""
    started_at = time.time()

    async def hello(params: Any) -> Any:
        return service.hello(started_by, started_at)

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

    bound: dict[str, Handler] = {
        protocol.HELLO: hello,
        protocol.RESOLVE: resolve,
        protocol.STATUS: status,
        protocol.SET_CREDENTIAL: set_credential,
        protocol.REMOVE_CREDENTIAL: remove_credential,
        protocol.PROVIDER_LIST: provider_list,
    }
    missing = set(protocol.PARAMS) - set(bound)
    assert not missing, f"methods in the contract without a handler: {missing}"
    return bound
