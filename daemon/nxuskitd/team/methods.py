"""The team store's wire methods bound to a ``TeamSlot`` (merged into ``nxuskitd.methods``).

Each one needs a ``[team]`` in config.toml; without one it answers ``config_invalid``
saying where to add it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from nxuskit import protocol
from nxuskit.answers import Answer
from nxuskit.errors import ConfigError
from nxuskit.registry import ProviderSpec, Registry
from nxuskitd.dispatch import Handler
from nxuskitd.team import TeamSlot

if TYPE_CHECKING:
    from nxuskitd.team.service import TeamService


def team_handlers(slot: TeamSlot, load_registry: Callable[[], Registry]) -> dict[str, Handler]:
    """``team.status``, ``team.login``, ``team.logout`` and ``team.set_credential``."""

    def active() -> tuple[TeamService, Registry]:
        registry = load_registry()
        service = slot.service(registry)
        if service is None:
            raise ConfigError(
                f"no team store is configured: add a [team] table with its address to "
                f"{registry.source} (see docs/team.md)"
            )
        return service, registry

    async def status(params: Any) -> Answer:
        return await active()[0].check()

    async def login(params: Any) -> Answer:
        return await active()[0].login(params.secret)

    async def logout(params: Any) -> Answer:
        return await active()[0].logout()

    async def set_credential(params: Any) -> Answer:
        service, registry = active()
        spec: ProviderSpec = registry.get(params.provider)
        return await service.write(spec, params.secret)

    return {
        protocol.TEAM_STATUS: status,
        protocol.TEAM_LOGIN: login,
        protocol.TEAM_LOGOUT: logout,
        protocol.TEAM_SET_CREDENTIAL: set_credential,
    }
