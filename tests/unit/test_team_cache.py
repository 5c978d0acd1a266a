"""How long a team key is served (issue 13): fresh for ``cache_ttl``, then read again; when
no node answers, a cached copy is served up to ``max_stale`` past its TTL, never longer.

The store here is a real loopback port nothing listens on (every read is refused at
once), so each answer below comes from the cache or from the rule, not from a store.
"""

from __future__ import annotations

import socket
import time

import pytest

from nxuskit.errors import StoreUnavailable
from nxuskit.registry import BUILTIN
from nxuskitd.stores import Record
from nxuskitd.team.service import TeamService, TeamValue
from nxuskitd.team.session import TOKEN_NAME
from nxuskitd.team.settings import TeamSettings

pytestmark = pytest.mark.anyio
OPENAI = next(spec for spec in BUILTIN if spec.name == "openai")
KEY = "sk-team-cached-0123"


class Kept:
    """The personal store, in memory: it holds the team token."""

    def __init__(self) -> None:
        self.records = {TOKEN_NAME: Record(secret="s.token-kept-here", auth_method="team")}

    async def record(self, name: str) -> Record | None:
        return self.records.get(name)

    async def store_record(self, name: str, record: Record) -> None:
        self.records[name] = record

    async def delete_record(self, name: str) -> bool:
        return self.records.pop(name, None) is not None


def nobody_listens() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def service(cache_ttl: float, max_stale: float) -> TeamService:
    settings = TeamSettings((nobody_listens(),), cache_ttl=cache_ttl, max_stale=max_stale)
    return TeamService(settings, Kept(), cache_idle=None, cache_max=None)


def cached(team: TeamService, age: float) -> None:
    fetched = time.monotonic() - age
    team.cache.put("openai", TeamValue(KEY, 3, team.vault.address, fetched))


async def test_a_fresh_key_is_served_without_asking() -> None:
    team = service(cache_ttl=60, max_stale=0)
    cached(team, age=59)
    value, stale = await team.value(OPENAI)
    assert (value.secret, stale) == (KEY, False)
    assert team.health.reachable is None  # the store was not asked


async def test_past_its_ttl_a_key_is_served_stale_while_the_store_is_down() -> None:
    team = service(cache_ttl=1, max_stale=60)
    cached(team, age=30)
    value, stale = await team.value(OPENAI)
    assert (value.secret, stale) == (KEY, True)
    assert team.health.reachable is False
    assert "connection refused" in (team.info().warning or "")
    status = await team.status_of(OPENAI)
    assert status.team is not None
    assert (status.source, status.team.stale, status.team.version) == ("team", True, 3)


async def test_past_max_stale_it_is_not_served() -> None:
    team = service(cache_ttl=1, max_stale=60)
    cached(team, age=62)
    with pytest.raises(StoreUnavailable, match="the team store does not answer"):
        await team.value(OPENAI)


async def test_nothing_cached_and_nobody_answering_says_so() -> None:
    team = service(cache_ttl=300, max_stale=3600)
    with pytest.raises(StoreUnavailable) as down:
        await team.value(OPENAI)
    assert "connection refused" in down.value.message
    assert "no key of openai read from it is cached" in down.value.message
    assert "s.token-kept-here" not in down.value.message
