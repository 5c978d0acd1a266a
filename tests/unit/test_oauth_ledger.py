"""The manager's bookkeeping of logins: bounded however many are started and cancelled."""

from __future__ import annotations

import secrets
from typing import cast

import anyio
import pytest

from nxuskit.answers import Logins
from nxuskitd.oauth.flows import Login
from nxuskitd.oauth.ledger import Ledger


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Stub:
    """What the ledger reads of a login."""

    def __init__(self, provider: str = "acme") -> None:
        self.id = secrets.token_hex(8)
        self.provider = provider
        self.done = anyio.Event()


def login(provider: str = "acme") -> Login:
    return cast(Login, Stub(provider))


def ended(item: Login) -> Login:
    item.done.set()
    return item


@pytest.mark.anyio
async def test_finished_logins_are_capped_oldest_first() -> None:
    ledger = Ledger(keep=120.0, limit=8, clock=Clock())
    logins = [login() for _ in range(1000)]
    for item in logins:
        ledger.add(item)
        ledger.finish(ended(item))
    assert ledger.counts() == Logins(running=0, finished=8)
    assert ledger.get(logins[0].id) is None
    assert ledger.get(logins[-9].id) is None
    assert all(ledger.get(item.id) is item for item in logins[-8:])


@pytest.mark.anyio
async def test_finished_logins_expire() -> None:
    clock = Clock()
    ledger = Ledger(keep=120.0, limit=64, clock=clock)
    first, second = login(), login("other")
    for item in (first, second):
        ledger.add(item)
    ledger.finish(ended(first))
    clock.now += 100
    ledger.finish(ended(second))
    clock.now += 30  # first ended 130 s ago, second 30 s ago
    assert ledger.get(first.id) is None
    assert ledger.get(second.id) is second
    clock.now += 100
    assert ledger.counts() == Logins(running=0, finished=0)


@pytest.mark.anyio
async def test_running_logins_by_provider() -> None:
    ledger = Ledger(clock=Clock())
    older = login()
    assert ledger.add(older) is None
    assert ledger.running_for("acme") is older
    newer = login()
    assert ledger.add(newer) is older  # the caller cancels it
    ended(older)
    assert ledger.pending() == 1
    ledger.finish(older)  # the older one's task ends after the newer one started
    assert ledger.running_for("acme") is newer
    assert ledger.get(older.id) is older  # its outcome stays for login_wait
    assert ledger.get(newer.id) is newer
    assert ledger.counts() == Logins(running=1, finished=1)
