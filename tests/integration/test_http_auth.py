"""nxuskit.HttpxAuth and nxuskit.RequestsAuth with the real httpx (sync and async) and
requests, a real daemon, and a provider API on loopback that rotates the key it accepts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx
import pytest
import requests

import nxuskit
import nxuskit.aio
from tests.conftest import Daemon
from tests.integration.loopback_api import Seen, loopback_api

pytestmark = pytest.mark.timeout(60)

LIBRARIES = ["httpx", "httpx-async", "requests"]


async def _send_async(provider: str, method: str, url: str, **options: object) -> int:
    async with httpx.AsyncClient(auth=nxuskit.HttpxAuth(provider)) as client:
        return (await client.request(method, url, **options)).status_code  # type: ignore[arg-type]


def send(library: str, provider: str, url: str, method: str = "GET", **options: object) -> int:
    """One request through ``library`` with the provider's adapter; the final status."""
    if library == "httpx":
        with httpx.Client(auth=nxuskit.HttpxAuth(provider)) as client:
            return client.request(method, url, **options).status_code  # type: ignore[arg-type]
    if library == "httpx-async":
        return asyncio.run(_send_async(provider, method, url, **options))
    if "content" in options:
        options["data"] = options.pop("content")  # requests' name for a bytes body
    auth = nxuskit.RequestsAuth(provider)
    return requests.request(method, url, auth=auth, timeout=10, **options).status_code  # type: ignore[arg-type]


STYLES = {
    "openai": {"authorization": "Bearer sk-openai-style"},
    "groq": {"authorization": "Bearer sk-groq-style"},
    "claude": {"x-api-key": "sk-claude-style", "anthropic-version": "2023-06-01"},
    "gemini": {"x-goog-api-key": "sk-gemini-style"},
    "azure-openai": {"api-key": "sk-azure-openai-style"},
}
KEY_HEADERS = {"authorization", "x-api-key", "x-goog-api-key", "api-key"}


@pytest.mark.parametrize("library", LIBRARIES)
def test_each_provider_gets_its_apis_header(daemon: Daemon, library: str) -> None:
    for provider in STYLES:
        nxuskit.auth_set_credential(provider, f"sk-{provider}-style")
    with loopback_api(lambda seen: True) as api:
        for provider in STYLES:
            assert send(library, provider, f"{api.url}/{provider}") == 200
        assert send(library, "ollama", f"{api.url}/ollama") == 200
    for provider, request in zip([*STYLES, "ollama"], api.seen, strict=True):
        sent = {name: value for name, value in request.headers.items() if name in KEY_HEADERS}
        expected = STYLES.get(provider, {})
        assert sent == {k: v for k, v in expected.items() if k in KEY_HEADERS}, provider
        if provider == "claude":
            assert request.headers["anthropic-version"] == "2023-06-01"


def test_the_apps_own_fixed_headers_stay_and_its_key_header_is_replaced(daemon: Daemon) -> None:
    nxuskit.auth_set_credential("claude", "sk-claude-current")
    headers = {"anthropic-version": "2024-10-22", "x-api-key": "sk-stale-in-app-code"}
    with loopback_api(lambda seen: True) as api:
        with httpx.Client(auth=nxuskit.HttpxAuth("claude")) as client:
            client.get(api.url, headers=headers)
        requests.get(api.url, headers=headers, auth=nxuskit.RequestsAuth("anthropic"), timeout=10)
    for request in api.seen:
        assert request.headers["anthropic-version"] == "2024-10-22"
        assert request.headers["x-api-key"] == "sk-claude-current"


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_rotated_api_key_is_used_once_stored_and_a_401_is_returned_as_it_came(
    daemon: Daemon, library: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    nxuskit.auth_set_credential("openai", "sk-one")
    accepted = {"sk-one"}
    with loopback_api(lambda seen: seen.credential() in accepted) as api:
        assert send(library, "openai", api.url) == 200
        accepted.clear()
        accepted.add("sk-two")  # the provider rotated the key; the store has the old one
        assert send(library, "openai", api.url) == 401
        assert api.credentials() == ["sk-one", "sk-one"]  # nothing to refresh: no retry
        nxuskit.auth_set_credential("openai", "sk-two")
        assert send(library, "openai", api.url) == 200
        monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
        assert send(library, "openai", api.url) == 401  # the env's key is the app's own
    assert api.credentials() == ["sk-one", "sk-one", "sk-two", "sk-from-env"]


@pytest.mark.parametrize("library", LIBRARIES)
def test_a_key_replaced_in_the_store_while_the_request_ran_is_retried_once(
    daemon: Daemon, library: str
) -> None:
    """The 401 comes after another process stored the new key (``provider set``): the
    request goes again, body and all, with the key the store holds now."""
    nxuskit.auth_set_credential("openai", "sk-before")

    def rotate(seen: Seen) -> bool:
        if seen.credential() == "sk-after":
            return True
        with nxuskit.Client(autostart=False) as another_process:
            another_process.auth_set_credential("openai", "sk-after")
        return False

    with loopback_api(rotate) as api:
        status = send(library, "openai", api.url + "/v1/chat", "POST", content=b'{"q": 1}')
    assert status == 200
    assert api.credentials() == ["sk-before", "sk-after"]
    assert [request.body for request in api.seen] == [b'{"q": 1}'] * 2


def test_the_async_client_serves_many_concurrent_requests(daemon: Daemon) -> None:
    nxuskit.auth_set_credential("groq", "gsk-concurrent")

    async def many(url: str) -> list[int]:
        async with httpx.AsyncClient(auth=nxuskit.HttpxAuth("groq")) as client:
            answers = await asyncio.gather(*(client.get(url) for _ in range(100)))
        await nxuskit.aio.reset()
        return [answer.status_code for answer in answers]

    with loopback_api(lambda seen: seen.credential() == "gsk-concurrent") as api:
        assert asyncio.run(many(api.url)) == [200] * 100
    assert set(api.credentials()) == {"gsk-concurrent"}


@pytest.mark.parametrize("provider", ["openai", "claude"])
def test_requests_keeps_the_key_off_a_redirect_to_another_origin(
    daemon: Daemon, provider: str
) -> None:
    nxuskit.auth_set_credential(provider, f"sk-{provider}-redirected")
    reject: Callable[[Seen], bool] = lambda seen: False  # noqa: E731
    with loopback_api(lambda seen: True) as api, loopback_api(reject) as elsewhere:
        api.redirect["/away"] = f"{elsewhere.url}/landing"
        api.redirect["/here"] = f"{api.url}/landing"
        auth = nxuskit.RequestsAuth(provider)
        away = requests.get(f"{api.url}/away", auth=auth, timeout=10)
        here = requests.get(f"{api.url}/here", auth=auth, timeout=10)
    assert away.status_code == 401  # the other origin's 401 is not retried with the key
    assert here.status_code == 200
    assert elsewhere.credentials() == [None]
    assert api.credentials() == [f"sk-{provider}-redirected"] * 3  # away, here, landing
    assert [request.path for request in api.seen] == ["/away", "/here", "/landing"]


def test_an_unknown_provider_fails_when_the_adapter_is_made(daemon: Daemon) -> None:
    with pytest.raises(nxuskit.UnknownProvider):
        nxuskit.HttpxAuth("no-such-provider")
    with pytest.raises(nxuskit.UnknownProvider):
        nxuskit.RequestsAuth("no-such-provider")


def test_nothing_stored_raises_before_anything_is_sent(daemon: Daemon) -> None:
    with loopback_api(lambda seen: True) as api:
        for library in LIBRARIES:
            with pytest.raises(nxuskit.NotAuthenticated, match="mistral"):
                send(library, "mistral", api.url)
    assert api.seen == []
