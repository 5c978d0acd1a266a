"""The client's public API without a daemon: precedence, reprs, Provider.create, errors.

The default Client gets an in-memory transport (``Client(connect=...)``) that records its
calls, so each test shows exactly when the daemon would be asked, and what for.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import answers, auth_resolve, auth_set_credential, auth_status, errors
from nxuskit.auth import AuthStatus, Resolution
from nxuskit.client import Client, set_default_client
from nxuskit.provider import Provider

pytestmark = pytest.mark.usefixtures("client_env")

EXPLICIT = "sk-explicit-1111aaaa"
ENV = "sk-from-env-2222bbbb"
STORED = "sk-from-store-3333cccc"


class FakeDaemon:
    """An in-memory transport for ``Client``: records requests, answers from ``stored``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.stored: dict[str, str] = {}
        self.fail: errors.NxuskitError | None = None

    def close(self) -> None:
        pass

    def call(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append((method, dict(params)))
        if self.fail is not None:
            raise self.fail
        return self.answer(method, params).to_wire()  # the wire's own shapes, as the daemon

    def answer(self, method: str, params: dict[str, Any]) -> answers.Answer:
        provider = params.get("provider")
        if method == "auth.resolve":
            assert provider is not None
            if provider not in self.stored:
                raise errors.NotAuthenticated(f"no credential for {provider}")
            return answers.Resolution(provider, self.stored[provider], "store", "api_key")
        if method == "auth.status":
            names = [provider] if provider else list(self.stored)
            store = answers.StoreInfo(
                "file", "file /x/credentials.json", "chosen with --store file"
            )
            return answers.Statuses([self.status_entry(name) for name in names], store)
        if method == "auth.set_credential":
            self.stored[params["provider"]] = params["secret"]
            return answers.Stored(params["provider"], True, "file")
        if method == "auth.remove_credential":
            removed = self.stored.pop(params["provider"], None) is not None
            return answers.Removed(params["provider"], removed)
        raise AssertionError(f"unexpected method {method}")

    def status_entry(self, name: str) -> answers.AuthStatus:
        stored = name in self.stored
        return answers.AuthStatus(
            name,
            "authenticated" if stored else "not_authenticated",
            "store" if stored else None,
            ["api_key"],
            "api_key" if stored else None,
        )


@pytest.fixture
def daemon() -> Iterator[FakeDaemon]:
    fake = FakeDaemon()
    set_default_client(Client(connect=lambda path, timeout: fake))
    yield fake
    set_default_client(None)


# -- precedence: explicit > env > store ----------------------------------------------------


def test_explicit_wins_and_the_daemon_is_not_asked(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    daemon.stored["openai"] = STORED
    resolution = auth_resolve("openai", api_key=EXPLICIT)
    assert (resolution.secret, resolution.source) == (EXPLICIT, "explicit")
    assert resolution.provider == "openai"
    assert resolution.auth_method == "api_key"
    assert daemon.calls == []


def test_env_beats_store_and_the_daemon_is_not_asked(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    daemon.stored["openai"] = STORED
    resolution = auth_resolve("openai")
    assert (resolution.secret, resolution.source) == (ENV, "env")
    assert daemon.calls == []


def test_store_is_asked_last_with_the_canonical_name(daemon: FakeDaemon) -> None:
    daemon.stored["claude"] = STORED
    resolution = auth_resolve("Anthropic")
    assert (resolution.secret, resolution.source) == (STORED, "store")
    assert resolution.provider == "claude"
    # A client that caches asks for leave to reuse the answer (docs/protocol.md section 13).
    assert daemon.calls == [("auth.resolve", {"provider": "claude", "reuse": True})]


@pytest.mark.parametrize("explicit", [None, ""])
def test_empty_env_var_is_unset(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch, explicit: str | None
) -> None:
    monkeypatch.setenv("GROQ_API_KEY", "")
    daemon.stored["groq"] = STORED
    resolution = auth_resolve("groq", api_key=explicit)
    assert resolution.source == "store"
    assert resolution.secret == STORED


def test_nothing_anywhere_is_not_authenticated(daemon: FakeDaemon) -> None:
    with pytest.raises(errors.NotAuthenticated):
        auth_resolve("mistral")
    assert daemon.calls == [("auth.resolve", {"provider": "mistral", "reuse": True})]


def test_custom_provider_env_from_config(
    daemon: FakeDaemon, client_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_env.mkdir(parents=True)
    (client_env / "config.toml").write_text('[providers.acme]\nenv = "ACME_KEY"\n')
    monkeypatch.setenv("ACME_KEY", ENV)
    resolution = auth_resolve("acme")
    assert (resolution.provider, resolution.secret, resolution.source) == ("acme", ENV, "env")
    assert daemon.calls == []


@pytest.mark.parametrize("name", ["ollama", "lm-studio", "LMStudio"])
def test_providers_without_auth_resolve_to_none_without_the_daemon(
    daemon: FakeDaemon, name: str
) -> None:
    resolution = auth_resolve(name)
    assert resolution.secret is None
    assert resolution.source is None
    assert resolution.auth_method == "none"
    assert daemon.calls == []


def test_unknown_provider_never_reaches_the_daemon(daemon: FakeDaemon) -> None:
    with pytest.raises(errors.UnknownProvider):
        auth_resolve("nonesuch", api_key=EXPLICIT)
    with pytest.raises(errors.UnknownProvider):
        auth_set_credential("nonesuch", STORED)
    assert daemon.calls == []


def test_daemon_errors_propagate_as_their_class(daemon: FakeDaemon) -> None:
    daemon.fail = errors.StoreUnavailable("the store is locked")
    with pytest.raises(errors.StoreUnavailable):
        auth_resolve("openai")


# -- status --------------------------------------------------------------------------------


def test_status_explicit_and_env_decide_without_the_daemon(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    explicit = auth_status("openai", api_key=EXPLICIT)
    assert (explicit.status, explicit.source) == ("authenticated", "explicit")
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    env = auth_status("gpt")
    assert (env.provider, env.status, env.source) == ("openai", "authenticated", "env")
    assert env.auth_methods == ["api_key"]
    assert daemon.calls == []


def test_status_from_store(daemon: FakeDaemon) -> None:
    daemon.stored["openrouter"] = STORED
    status = auth_status("openrouter")
    assert (status.status, status.source) == ("authenticated", "store")
    assert status.authenticated is True
    assert status.auth_methods == ["api_key", "oauth"]
    assert daemon.calls == [("auth.status", {"provider": "openrouter"})]


def test_status_not_authenticated(daemon: FakeDaemon) -> None:
    status = auth_status("groq")
    assert (status.status, status.source) == ("not_authenticated", None)
    assert status.authenticated is False


def test_status_not_required_without_the_daemon(daemon: FakeDaemon) -> None:
    status = auth_status("ollama")
    assert (status.status, status.source, status.auth_methods) == ("not_required", None, [])
    assert status.authenticated is True
    assert daemon.calls == []


def test_status_all_is_one_round_trip_in_registry_order(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    daemon.stored["groq"] = STORED
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    statuses = nxuskit.auth_status_all()
    assert [s.provider for s in statuses][:3] == ["openai", "claude", "groq"]
    by_name = {s.provider: s for s in statuses}
    assert by_name["openai"].source == "env"
    assert by_name["groq"].source == "store"
    assert by_name["claude"].status == "not_authenticated"
    assert by_name["ollama"].status == "not_required"
    assert len(daemon.calls) == 1


# -- set / remove --------------------------------------------------------------------------


def test_set_sends_the_canonical_name(daemon: FakeDaemon) -> None:
    auth_set_credential("GPT", STORED)
    assert daemon.calls == [("auth.set_credential", {"provider": "openai", "secret": STORED})]


@pytest.mark.parametrize(
    "secret",
    ["", "   ", "k" * (16 * 1024 + 1), "\x1fsk-abc", "sk-abc\x85", "sk-\x7fabc"],
    ids=["empty", "blank", "long", "leading U+001F", "trailing U+0085", "DEL inside"],
)
def test_set_refuses_bad_secrets_before_the_daemon(daemon: FakeDaemon, secret: str) -> None:
    with pytest.raises(errors.InvalidArgument) as caught:
        auth_set_credential("openai", secret)
    assert daemon.calls == []
    if secret.strip():
        assert secret not in str(caught.value)


def test_set_sends_the_key_trimmed_by_the_shared_rule(daemon: FakeDaemon) -> None:
    auth_set_credential("openai", f" {STORED}\r\n")
    assert daemon.calls == [("auth.set_credential", {"provider": "openai", "secret": STORED})]


def test_remove_reports_whether_something_was_removed(daemon: FakeDaemon) -> None:
    daemon.stored["openai"] = STORED
    assert nxuskit.auth_remove_credential("gpt") is True
    assert nxuskit.auth_remove_credential("openai") is False


# -- nothing shows a secret ----------------------------------------------------------------


def shown(value: object) -> list[str]:
    return [repr(value), str(value), f"{value}", f"{value!r}", repr([value]), repr({"v": value})]


def test_resolution_repr_and_str_hide_the_secret() -> None:
    resolution = Resolution("openai", EXPLICIT, "explicit", "api_key")
    for text in shown(resolution):
        assert EXPLICIT not in text
        assert "openai" in text
    assert "secret=None" in repr(Resolution("ollama", None, None, "none"))
    assert not hasattr(resolution, "__dict__")  # no vars() dump of the secret either


def test_auth_status_holds_and_shows_no_secret(
    daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", ENV)
    status = auth_status("openai")
    for text in [*shown(status), str(status.to_dict())]:
        assert ENV not in text
    assert isinstance(status, AuthStatus)
    assert set(status.to_dict()) >= {"provider", "status", "source", "auth_methods"}


def test_provider_repr_and_str_hide_the_key(daemon: FakeDaemon) -> None:
    provider = Provider.create("openai", api_key=EXPLICIT)
    assert provider.api_key == EXPLICIT
    for text in shown(provider):
        assert EXPLICIT not in text
        assert "openai" in text


def test_errors_from_the_client_hold_no_secret(daemon: FakeDaemon) -> None:
    secret = "sk-" + "z" * (16 * 1024)
    with pytest.raises(errors.InvalidArgument) as caught:
        auth_set_credential("openai", secret)
    assert "zzzz" not in str(caught.value)
    assert "zzzz" not in repr(caught.value)


# -- Provider.create -----------------------------------------------------------------------


def test_provider_create_remote_default_base_url(daemon: FakeDaemon) -> None:
    daemon.stored["openai"] = STORED
    provider = Provider.create("gpt")
    assert provider.name == "openai"
    assert provider.api_key == STORED
    assert provider.source == "store"
    assert provider.base_url == "https://api.openai.com/v1"


def test_provider_create_local_default_host(daemon: FakeDaemon) -> None:
    provider = Provider.create("ollama")
    assert provider.api_key is None
    assert provider.base_url == "http://localhost:11434/v1"
    assert Provider.create("lmstudio").base_url == "http://localhost:1234/v1"
    assert daemon.calls == []


def test_provider_create_host_from_env(daemon: FakeDaemon, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://gpu-box:11434")
    assert Provider.create("ollama").base_url == "http://gpu-box:11434/v1"
    monkeypatch.setenv("OLLAMA_HOST", "")
    assert Provider.create("ollama").base_url == "http://localhost:11434/v1"


def test_provider_create_uses_config_default_host(
    daemon: FakeDaemon, client_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client_env.mkdir(parents=True)
    (client_env / "config.toml").write_text(
        '[providers.ollama]\ndefault_host = "http://lan-box:11434"\n'
    )
    assert Provider.create("ollama").base_url == "http://lan-box:11434/v1"


def test_provider_create_not_authenticated(daemon: FakeDaemon) -> None:
    with pytest.raises(errors.NotAuthenticated):
        Provider.create("together")


# -- the error tree on the wire ------------------------------------------------------------

KINDS = {
    "daemon_unavailable": errors.DaemonUnavailable,
    "daemon_busy": errors.DaemonBusy,
    "version_mismatch": errors.VersionMismatch,
    "unknown_provider": errors.UnknownProvider,
    "not_authenticated": errors.NotAuthenticated,
    "store_unavailable": errors.StoreUnavailable,
    "permission_denied": errors.PermissionDenied,
    "invalid_params": errors.InvalidArgument,
    "config_invalid": errors.ConfigError,
    "protocol_error": errors.ProtocolError,
}


@pytest.mark.parametrize(("kind", "cls"), list(KINDS.items()))
def test_error_from_wire_maps_each_kind(kind: str, cls: type[errors.NxuskitError]) -> None:
    error = errors.error_from_wire(
        {"code": 1234, "message": "what and how to fix it", "data": {"kind": kind}}
    )
    assert type(error) is cls
    assert isinstance(error, errors.NxuskitError)
    assert str(error) == "what and how to fix it"


@pytest.mark.parametrize("cls", list(KINDS.values()), ids=lambda cls: cls.__name__)
def test_to_wire_round_trips(cls: type[errors.NxuskitError]) -> None:
    wire = cls("message").to_wire()
    assert wire == {"code": cls.code, "message": "message", "data": {"kind": cls.kind}}
    assert type(errors.error_from_wire(wire)) is cls


def test_every_class_has_a_distinct_kind_and_code() -> None:
    classes = list(KINDS.values())
    assert len({cls.kind for cls in classes}) == len(classes)
    assert len({cls.code for cls in classes}) == len(classes)
    assert all(issubclass(cls, errors.NxuskitError) for cls in classes)
    assert issubclass(errors.DaemonBusy, errors.DaemonUnavailable)


@pytest.mark.parametrize(
    ("wire", "cls"),
    [
        ("not a dict", errors.ProtocolError),
        ({"code": -32602, "message": "Invalid params: x"}, errors.InvalidArgument),
        (
            {"code": -32602, "message": "m", "data": {"kind": "invalid_params"}},
            errors.InvalidArgument,
        ),
        ({"code": -32603, "message": "Internal error"}, errors.ProtocolError),
        ({"code": 4242, "message": "m", "data": {"kind": "from_the_future"}}, errors.ProtocolError),
        ({"code": 4242, "message": "m", "data": "not a dict"}, errors.ProtocolError),
        ({"code": 4242, "data": {"kind": "not_authenticated"}}, errors.NotAuthenticated),
    ],
    ids=[
        "not a dict",
        "-32602",
        "invalid_params kind",
        "-32603",
        "unknown kind",
        "bad data",
        "no message",
    ],
)
def test_error_from_wire_fallbacks(wire: object, cls: type[errors.NxuskitError]) -> None:
    error = errors.error_from_wire(wire)
    assert type(error) is cls
    assert str(error)
