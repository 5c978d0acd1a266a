"""The pure parts of the daemon's OAuth: PKCE, token answers, refresh timing, the device
poll loop, the callback page, and the CLI's browser decision."""

from __future__ import annotations

import re

import pytest

from nxuskit.errors import LoginFailed
from nxuskit_cli.output import format_expiry
from nxuskit_cli.provider_login import browser_available
from nxuskitd.oauth import device, pages, pkce
from nxuskitd.oauth.http import TokenError, clean
from nxuskitd.oauth.tokens import TokenSet, needs_refresh, refresh_margin
from nxuskitd.stores import Record


def test_verifier_meets_rfc_7636() -> None:
    verifiers = {pkce.new_verifier() for _ in range(50)}
    assert len(verifiers) == 50
    for verifier in verifiers:
        assert 43 <= len(verifier) <= 128
        assert re.fullmatch(r"[A-Za-z0-9._~-]+", verifier)


def test_challenge_matches_rfc_7636_appendix_b() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert pkce.challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_state_comparison() -> None:
    state = pkce.new_state()
    assert len(state) >= 32
    assert pkce.same_secret(state, state)
    assert not pkce.same_secret(state + "x", state)
    assert not pkce.same_secret(None, state)
    assert not pkce.same_secret("\u00e9", state)


def test_token_answer_is_checked_and_hidden() -> None:
    tokens = TokenSet.from_response(
        {"access_token": "at-123", "refresh_token": "rt-456", "expires_in": "60", "scope": "a b"}
    )
    assert tokens.expires_in == 60
    assert "at-123" not in repr(tokens)
    assert "rt-456" not in repr(tokens)
    record = tokens.to_record(now=1000.0)
    assert (record.secret, record.refresh_token, record.expires_at) == ("at-123", "rt-456", 1060)
    assert record.auth_method == "oauth"
    assert "at-123" not in repr(record)
    assert "rt-456" not in repr(record)
    with pytest.raises(LoginFailed):
        TokenSet.from_response({"token_type": "Bearer"})
    with pytest.raises(LoginFailed):
        TokenSet.from_response({"access_token": "x", "refresh_token": 5})


def test_a_refresh_without_a_new_refresh_token_keeps_the_old_one() -> None:
    old = Record(secret="a1", auth_method="oauth", refresh_token="r1", scope="s", updated_at=0)
    new = TokenSet.from_response({"access_token": "a2", "expires_in": 10}).to_record(old, 5.0)
    assert (new.secret, new.refresh_token, new.scope, new.expires_at) == ("a2", "r1", "s", 15.0)


@pytest.mark.parametrize(
    ("lifetime", "margin"), [(3600.0, 300.0), (600.0, 300.0), (60.0, 30.0), (6.0, 3.0)]
)
def test_refresh_margin(lifetime: float, margin: float) -> None:
    record = Record(secret="a", auth_method="oauth", updated_at=100.0, expires_at=100 + lifetime)
    assert refresh_margin(record) == margin
    due = 100 + lifetime - margin
    assert not needs_refresh(record, now=due - 0.01)
    assert needs_refresh(record, now=due)
    assert not needs_refresh(Record(secret="k", auth_method="oauth"), now=1e12)


def test_record_json_stays_compatible() -> None:
    import msgspec

    old = b'{"secret":"sk","auth_method":"api_key","updated_at":1.0}'
    record = msgspec.json.decode(old, type=Record)
    assert record.refresh_token is None
    assert msgspec.json.encode(record) == old


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def grant(interval: float = 1.0, expires_in: float = 600.0) -> device.DeviceGrant:
    return device.DeviceGrant.from_response(
        {
            "device_code": "dc",
            "user_code": "ABCD-EFGH",
            "verification_uri": "https://id.example.com/device",
            "expires_in": expires_in,
            "interval": interval,
        }
    )


async def _poll(outcomes: list[str], clock: Clock, expires_in: float = 600.0) -> TokenSet:
    queue = iter(outcomes)

    async def fetch() -> TokenSet:
        outcome = next(queue)
        if outcome == "ok":
            return TokenSet.from_response({"access_token": "at"})
        raise TokenError(outcome)

    return await device.poll("acme", grant(1.0, expires_in), fetch, clock.sleep, clock)


@pytest.mark.anyio
async def test_device_poll_honours_pending_and_slow_down() -> None:
    clock = Clock()
    tokens = await _poll(
        ["authorization_pending", "slow_down", "authorization_pending", "ok"], clock
    )
    assert tokens.access_token == "at"
    assert clock.waits == [1.0, 1.0, 6.0, 6.0]


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("error", "words"),
    [("access_denied", "was denied"), ("expired_token", "expired"), ("invalid_client", "refused")],
)
async def test_device_poll_failures(error: str, words: str) -> None:
    with pytest.raises(LoginFailed) as caught:
        await _poll(["authorization_pending", error], Clock())
    assert words in str(caught.value)


@pytest.mark.anyio
async def test_device_poll_stops_when_the_code_expires() -> None:
    with pytest.raises(LoginFailed) as caught:
        await _poll(["authorization_pending"] * 10, Clock(), expires_in=3.0)
    assert "expired" in str(caught.value)


def test_device_grant_needs_a_web_verification_uri() -> None:
    with pytest.raises(LoginFailed):
        device.DeviceGrant.from_response(
            {"device_code": "d", "user_code": "u", "verification_uri": "javascript:alert(1)"}
        )
    assert "dc" not in repr(grant())


def test_page_escapes_what_it_echoes() -> None:
    answer = pages.response(403, "Login failed", "<script>alert(1)</script>").decode()
    head, body = answer.split("\r\n\r\n", 1)
    assert "Cache-Control: no-store" in head
    assert "<script>" not in body
    assert "&lt;script&gt;" in body
    assert clean("a\r\nb\x00c") == "a??b?c"


def test_browser_only_where_one_can_be_seen() -> None:
    assert browser_available({"DISPLAY": ":0"}, "linux")
    assert browser_available({"WAYLAND_DISPLAY": "wayland-0"}, "linux")
    assert not browser_available({}, "linux")
    assert not browser_available({"DISPLAY": ":0", "SSH_CONNECTION": "1 2 3 4"}, "linux")
    assert browser_available({}, "darwin")
    assert not browser_available({"SSH_TTY": "/dev/pts/1"}, "darwin")


def test_format_expiry() -> None:
    assert format_expiry(None) == ""
    assert format_expiry(1000.0, now=2000.0).endswith("(expired)")
    assert format_expiry(1000.0 + 30, now=1000.0).endswith("(in 30 s)")
    assert format_expiry(1000.0 + 3000, now=1000.0).endswith("(in 50 min)")


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_an_http_error_keeps_its_status_and_words_but_no_token() -> None:
    from nxuskitd.oauth.http import detail, http_problem

    class Answer:
        def __init__(self, status_code: int, text: str) -> None:
            self.status_code, self.text = status_code, text

        def json(self) -> object:
            import json

            return json.loads(self.text)

    token = "rt-" + "A1b2C3d4" * 6
    page = http_problem("id.example.com", Answer(500, f"\n\nOops: token {token} broke\x1b[31m"))
    assert page == "id.example.com answered HTTP 500: Oops: token [...] broke?[31m"
    body = '{"error": "server_error", "error_description": "store down"}'
    assert http_problem("h", Answer(503, body)) == "h answered HTTP 503: store down"
    assert http_problem("h", Answer(502, '{"error": {"message": "upstream"}}')).endswith(
        "502: upstream"
    )
    assert http_problem("h", Answer(500, "")) == "h answered HTTP 500"
    assert len(detail("x" * 1000 + " y")) <= 120
