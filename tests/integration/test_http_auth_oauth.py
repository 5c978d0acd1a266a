"""The auth adapters with a login: a token the API rejects is reported, refreshed once by
the daemon against the real authorization server (oidc-provider), and the request sent
again. The loopback API accepts a token only while the authorization server does."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import httpx2
import pytest

import nxuskit
import nxuskit.aio
from tests.conftest import Daemon, Sandbox
from tests.integration.loopback_api import LoopbackApi, Seen, loopback_api
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.test_http_auth import LIBRARIES, send
from tests.integration.test_oauth import configure, log_in, stored

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def auth_server() -> Iterator[AuthServer]:
    yield from run_auth_server()


@pytest.fixture
def browser(auth_server: AuthServer) -> Iterator[Browser]:
    agent = Browser(auth_server)
    try:
        yield agent
    finally:
        agent.close()


@pytest.fixture
def api(auth_server: AuthServer) -> Iterator[tuple[LoopbackApi, set[str]]]:
    """The API, and the tokens it has stopped accepting (a rotation on its side)."""
    rejected: set[str] = set()

    def accepts(seen: Seen) -> bool:
        token = seen.credential()
        if token is None or token in rejected:
            return False
        return auth_server.userinfo(token).status_code == 200

    with loopback_api(accepts) as running:
        yield running, rejected


@pytest.fixture
def logged_in(sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser) -> str:
    """Provider ``acme`` logged in; its current access token."""
    configure(sandbox, auth_server)
    log_in(browser)
    token = nxuskit.auth_resolve("acme").secret
    assert token is not None
    return token


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_rejected_token_is_refreshed_once_and_the_request_sent_again(
    library: str, logged_in: str, api: tuple[LoopbackApi, set[str]], auth_server: AuthServer
) -> None:
    running, rejected = api
    assert send(library, "acme", running.url) == 200
    rejected.add(logged_in)
    before = auth_server.refreshes()
    assert send(library, "acme", running.url, "POST", content=b'{"q": 2}') == 200
    tokens = running.credentials()
    assert tokens[:3] == [logged_in, logged_in, tokens[2]]
    assert tokens[2] != logged_in
    assert auth_server.refreshes() == before + 1
    assert nxuskit.auth_resolve("acme").secret == tokens[2]
    assert [request.body for request in running.seen[1:]] == [b'{"q": 2}'] * 2


def test_many_async_requests_rejected_at_once_share_one_refresh(
    logged_in: str, api: tuple[LoopbackApi, set[str]], auth_server: AuthServer
) -> None:
    running, rejected = api
    rejected.add(logged_in)
    before = auth_server.refreshes()

    async def burst() -> list[int]:
        async with httpx.AsyncClient(auth=nxuskit.HttpxAuth("acme"), timeout=30) as client:
            answers = await asyncio.gather(*(client.get(running.url) for _ in range(20)))
        await nxuskit.aio.reset()
        return [answer.status_code for answer in answers]

    assert asyncio.run(burst()) == [200] * 20
    tokens = running.credentials()
    renewed = nxuskit.auth_resolve("acme").secret
    assert sorted(tokens, key=lambda token: token == renewed) == [logged_in] * 20 + [renewed] * 20
    assert auth_server.refreshes() == before + 1


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_login_that_cannot_be_refreshed_returns_the_401(
    library: str,
    sandbox: Sandbox,
    logged_in: str,
    api: tuple[LoopbackApi, set[str]],
    auth_server: AuthServer,
) -> None:
    running, rejected = api
    # another program spends the refresh token: the daemon's copy is a reused one now
    spent = httpx2.post(
        auth_server.url("/token"),
        data={
            "grant_type": "refresh_token",
            "refresh_token": stored(sandbox)["refresh_token"],
            "client_id": "nxuskit-test",
        },
    )
    assert spent.status_code == 200
    rejected.add(logged_in)
    assert send(library, "acme", running.url) == 401
    assert running.credentials() == [logged_in]
    with pytest.raises(nxuskit.NotAuthenticated, match="provider login acme"):
        nxuskit.auth_resolve("acme")
