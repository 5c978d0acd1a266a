"""One refresh per provider, shared by concurrent resolves; the loopback callback listener.

A real CredentialService over a real file store; only the token endpoint is replaced (the
integration tests use a real authorization server).
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio
import httpx2
import pytest

from nxuskit.errors import LoginFailed, NotAuthenticated
from nxuskitd.credentials import CredentialService
from nxuskitd.oauth import flows, http
from nxuskitd.oauth.callback import open_callback_listener
from nxuskitd.oauth.refresh import Refresher
from nxuskitd.oauth.settings import settings_for
from nxuskitd.oauth.tokens import TokenSet
from nxuskitd.stores import FileStore, Record

CONFIG = """\
[providers.acme]
auth_methods = ["oauth"]
[providers.acme.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "https://id.example.com/token"
client_id = "nxuskit"
"""


@pytest.fixture
def service(tmp_path: Path) -> CredentialService:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    data = tmp_path / "data"
    return CredentialService(FileStore(str(data)), "test", config_path=str(config))


def expired(secret: str = "at-1", refresh: str | None = "rt-1") -> Record:
    now = time.time()
    return Record(
        secret=secret,
        auth_method="oauth",
        updated_at=now - 60,
        expires_at=now - 1,
        refresh_token=refresh,
    )


class FakeEndpoint:
    """Stands in for ``http.refresh``: counts calls, takes ``delay`` seconds."""

    def __init__(self, delay: float = 0.2, error: str | None = None) -> None:
        self.calls: list[str] = []
        self.delay = delay
        self.error = error

    async def __call__(self, settings: object, refresh_token: str) -> TokenSet:
        self.calls.append(refresh_token)
        await anyio.sleep(self.delay)
        if self.error is not None:
            raise http.TokenError(self.error, "refresh token already used")
        n = len(self.calls) + 1
        return TokenSet.from_response(
            {"access_token": f"at-{n}", "refresh_token": f"rt-{n}", "expires_in": 3600}
        )


@pytest.mark.anyio
async def test_concurrent_resolves_share_one_refresh(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = FakeEndpoint()
    monkeypatch.setattr(http, "refresh", endpoint)
    await service.store_record("acme", expired())
    refresher = Refresher(service)
    service.refresh_hook = refresher.fresh
    events: list[str] = []
    original = service.store.set

    def recording_set(name: str, record: Record) -> None:
        original(name, record)
        events.append("stored")

    monkeypatch.setattr(service.store, "set", recording_set)
    answers: list[str] = []

    async def resolve() -> None:
        answer = await service.resolve("acme")
        events.append("answered")
        answers.append(answer["secret"])

    async with anyio.create_task_group() as tasks:
        for _ in range(8):
            tasks.start_soon(resolve)
    assert endpoint.calls == ["rt-1"]
    assert answers == ["at-2"] * 8
    assert events[0] == "stored"  # the rotated refresh token was stored before any answer
    assert service.store.get("acme") == (await service.reload_record("acme"))
    stored = service.store.get("acme")
    assert stored is not None
    assert stored.refresh_token == "rt-2"


@pytest.mark.anyio
async def test_the_refresh_survives_its_first_callers_cancellation(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = FakeEndpoint(delay=0.3)
    monkeypatch.setattr(http, "refresh", endpoint)
    await service.store_record("acme", expired())
    refresher = Refresher(service)
    spec = service.provider("acme")
    with anyio.move_on_after(0.05):
        await refresher.fresh(spec, expired())
    fresh = await refresher.fresh(spec, expired())  # joins, or finds it stored
    assert fresh.secret == "at-2"
    assert endpoint.calls == ["rt-1"]


@pytest.mark.anyio
async def test_a_record_refreshed_elsewhere_is_not_refreshed_again(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = FakeEndpoint()
    monkeypatch.setattr(http, "refresh", endpoint)
    newer = Record(
        secret="at-other",
        auth_method="oauth",
        expires_at=time.time() + 3600,
        refresh_token="rt-other",
    )
    service.store.set("acme", newer)  # another daemon refreshed; our cache is older
    refresher = Refresher(service)
    fresh = await refresher.fresh(service.provider("acme"), expired())
    assert fresh.secret == "at-other"
    assert endpoint.calls == []


@pytest.mark.anyio
async def test_invalid_grant_ends_the_login(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = FakeEndpoint(error="invalid_grant")
    monkeypatch.setattr(http, "refresh", endpoint)
    await service.store_record("acme", expired())
    service.refresh_hook = Refresher(service).fresh
    errors: list[str] = []

    async def resolve() -> None:
        try:
            await service.resolve("acme")
        except NotAuthenticated as error:
            errors.append(str(error))

    async with anyio.create_task_group() as tasks:
        for _ in range(4):
            tasks.start_soon(resolve)
    assert len(endpoint.calls) == 1
    assert len(errors) == 4
    assert all("nxuskit-cli provider login acme" in error for error in errors)
    assert service.store.get("acme") is None


@pytest.mark.anyio
async def test_an_unreachable_endpoint(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def unreachable(settings: object, refresh_token: str) -> TokenSet:
        raise http.EndpointUnavailable("id.example.com gave no answer (ConnectError)")

    monkeypatch.setattr(http, "refresh", unreachable)
    refresher = Refresher(service)
    spec = service.provider("acme")
    now = time.time()
    due = Record(
        secret="at-1", auth_method="oauth", updated_at=now - 3500, expires_at=now + 100,
        refresh_token="rt-1",
    )  # fmt: skip
    await service.store_record("acme", due)
    assert (await refresher.fresh(spec, due)).secret == "at-1"  # still valid: keep using it
    await service.store_record("acme", expired())
    with pytest.raises(LoginFailed) as caught:
        await refresher.fresh(spec, expired())
    assert "gave no answer" in str(caught.value)


@pytest.mark.anyio
async def test_callback_listener(service: CredentialService) -> None:
    settings = settings_for(service.provider("acme"))
    listener = await open_callback_listener("127.0.0.1")
    flow = flows.BrowserLogin(settings, service, 30.0, listener)
    assert flow.state is not None
    base = listener.redirect_uri
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(flow.run)
        async with httpx2.AsyncClient(timeout=5) as client:
            assert (await client.get(base.replace("/callback", "/favicon.ico"))).status_code == 404
            assert (await client.post(base)).status_code == 405
            wrong = await client.get(base, params={"state": "nope", "code": "c"})
            assert wrong.status_code == 400
            rebound = await client.get(
                base, params={"state": flow.state, "code": "c"}, headers={"Host": "evil.example"}
            )
            assert rebound.status_code == 400  # a DNS-rebinding page's request: the login goes on
            assert not flow.done.is_set()
            hostile = "<script>alert(1)</script>"
            denied = await client.get(
                base,
                params={
                    "state": flow.state,
                    "error": "access_denied",
                    "error_description": hostile,
                },
            )
            assert denied.status_code == 403
            assert denied.headers["cache-control"] == "no-store"
            assert "<script>" not in denied.text
            assert "&lt;script&gt;" in denied.text
        await flow.done.wait()
    assert isinstance(flow.error, LoginFailed)
    assert "denied" in str(flow.error)
    with pytest.raises(OSError, match="connection attempts failed"):  # one login per listener
        await anyio.connect_tcp("127.0.0.1", listener.port)


@pytest.mark.anyio
async def test_two_daemons_sharing_a_store_refresh_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    data = str(tmp_path / "data")
    endpoint = FakeEndpoint(delay=0.3)
    monkeypatch.setattr(http, "refresh", endpoint)
    daemons = []
    for _ in range(2):  # each with its own store object, cache and single flight
        service = CredentialService(FileStore(data), "test", config_path=str(config), data_dir=data)
        service.refresh_hook = Refresher(service).fresh
        daemons.append(service)
    daemons[0].store.set("acme", expired())
    answers: list[str] = []

    async def resolve(service: CredentialService) -> None:
        answers.append((await service.resolve("acme"))["secret"])

    async with anyio.create_task_group() as tasks:
        for index in range(8):
            tasks.start_soon(resolve, daemons[index % 2])
    assert endpoint.calls == ["rt-1"]
    assert answers == ["at-2"] * 8


@pytest.mark.anyio
async def test_a_dead_grant_gives_way_to_a_record_stored_meanwhile(
    service: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    newer = Record(
        secret="at-other", auth_method="oauth", expires_at=time.time() + 3600,
        refresh_token="rt-other",
    )  # fmt: skip

    async def spent(settings: object, refresh_token: str) -> TokenSet:
        service.store.set("acme", newer)  # an nxuskitd that took no lock rotated it first
        raise http.TokenError("invalid_grant", "refresh token already used")

    monkeypatch.setattr(http, "refresh", spent)
    await service.store_record("acme", expired())
    fresh = await Refresher(service).fresh(service.provider("acme"), expired())
    assert fresh.secret == "at-other"
    assert service.store.get("acme") == newer  # not deleted


BOTH = """\
[providers.acme]
auth_methods = ["api_key", "oauth"]
env = "ACME_API_KEY"
[providers.acme.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "https://id.example.com/token"
client_id = "nxuskit"
[providers.keyed]
auth_methods = ["api_key"]
env = "KEYED_API_KEY"
[providers.signed]
auth_methods = ["oauth"]
[providers.signed.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "https://id.example.com/token"
client_id = "nxuskit"
"""


@pytest.fixture
def both(tmp_path: Path) -> CredentialService:
    config = tmp_path / "config.toml"
    config.write_text(BOTH)
    return CredentialService(FileStore(str(tmp_path / "data")), "test", config_path=str(config))


async def _refusal(service: CredentialService, provider: str) -> str:
    with pytest.raises(NotAuthenticated) as caught:
        await service.resolve(provider)
    return str(caught.value)


@pytest.mark.anyio
async def test_the_hint_follows_the_auth_methods(both: CredentialService) -> None:
    signed = await _refusal(both, "signed")
    assert "`nxuskit-cli provider login signed`" in signed
    assert "provider set" not in signed
    keyed = await _refusal(both, "keyed")
    assert "export KEYED_API_KEY=..., or run `nxuskit-cli provider set keyed`" in keyed
    assert "login" not in keyed
    acme = await _refusal(both, "acme")
    assert "`nxuskit-cli provider set acme`" in acme
    assert "`nxuskit-cli provider login acme`" in acme


@pytest.mark.anyio
async def test_after_a_dead_grant_every_resolve_says_log_in(
    both: CredentialService, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(http, "refresh", FakeEndpoint(error="invalid_grant"))
    await both.store_record("acme", expired())
    both.refresh_hook = Refresher(both).fresh
    messages = [await _refusal(both, "acme") for _ in range(3)]
    assert both.store.get("acme") is None
    for message in messages:
        assert "no longer valid (invalid_grant)" in message
        assert message.endswith("run `nxuskit-cli provider login acme`")
    await both.set_credential("acme", "sk-acme-key")  # a new credential ends the story
    await both.remove_credential("acme")
    assert "no longer valid" not in await _refusal(both, "acme")
