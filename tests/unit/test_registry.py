"""The built-in providers, their aliases, and lookups."""

from __future__ import annotations

import pytest

from nxuskit import registry
from nxuskit.errors import UnknownProvider
from nxuskit.registry import BUILTIN, Registry

# name: (aliases, env, auth_methods, host_env, default_host or None when not checked)
EXPECTED = {
    "openai": ((("gpt",)), "OPENAI_API_KEY", ("api_key",), None, None),
    "claude": (("anthropic",), "ANTHROPIC_API_KEY", ("api_key",), None, None),
    "groq": ((), "GROQ_API_KEY", ("api_key",), None, None),
    "mistral": ((), "MISTRAL_API_KEY", ("api_key",), None, None),
    "fireworks": ((), "FIREWORKS_API_KEY", ("api_key",), None, None),
    "together": ((), "TOGETHER_API_KEY", ("api_key",), None, None),
    "openrouter": ((), "OPENROUTER_API_KEY", ("api_key", "oauth"), None, None),
    "perplexity": ((), "PERPLEXITY_API_KEY", ("api_key",), None, None),
    "ollama": ((), None, (), "OLLAMA_HOST", "http://localhost:11434"),
    "lm-studio": (("lmstudio",), None, (), "LMSTUDIO_HOST", "http://localhost:1234"),
}


@pytest.fixture
def builtin() -> Registry:
    return Registry(BUILTIN)


def test_the_ten_builtins_in_order() -> None:
    assert [spec.name for spec in BUILTIN] == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_builtin_fields(builtin: Registry, name: str) -> None:
    aliases, env, methods, host_env, default_host = EXPECTED[name]
    spec = builtin.get(name)
    assert spec.name == name
    assert spec.aliases == aliases
    assert spec.env == env
    assert spec.auth_methods == methods
    assert spec.host_env == host_env
    assert spec.requires_auth is bool(methods)
    if default_host is not None:
        assert spec.default_host == default_host
    assert spec.display_name


@pytest.mark.parametrize(
    ("alias", "name"),
    [("gpt", "openai"), ("anthropic", "claude"), ("lmstudio", "lm-studio")],
)
def test_aliases(builtin: Registry, alias: str, name: str) -> None:
    assert builtin.get(alias).name == name
    assert builtin.get(alias) is builtin.get(name)


@pytest.mark.parametrize(
    "spelling", ["OpenAI", "OPENAI", "Gpt", " openai ", "ANTHROPIC", "LM-Studio"]
)
def test_lookup_is_case_insensitive(builtin: Registry, spelling: str) -> None:
    assert builtin.find(spelling) is not None


def test_find_returns_none_for_unknown(builtin: Registry) -> None:
    assert builtin.find("nonesuch") is None


@pytest.mark.parametrize("name", ["nonesuch", "", "open ai", "x" * 500])
def test_unknown_provider_lists_the_known_names(builtin: Registry, name: str) -> None:
    with pytest.raises(UnknownProvider) as caught:
        builtin.get(name)
    message = str(caught.value)
    for known in EXPECTED:
        assert known in message
    assert len(message) < 600  # a huge name is not echoed in full


def test_unknown_provider_says_where_to_add_one(tmp_path: object) -> None:
    reg = Registry(BUILTIN, "/home/someone/.config/nxuskit/config.toml")
    with pytest.raises(UnknownProvider) as caught:
        reg.get("acme")
    assert "'acme'" in str(caught.value)
    assert "/home/someone/.config/nxuskit/config.toml" in str(caught.value)


def test_non_string_name_is_unknown_not_a_crash(builtin: Registry) -> None:
    with pytest.raises(UnknownProvider):
        builtin.get(None)  # type: ignore[arg-type]


def test_to_wire_describes_without_secrets(builtin: Registry) -> None:
    wire = builtin.get("lmstudio").to_wire()
    assert wire == {
        "name": "lm-studio",
        "display_name": wire["display_name"],
        "aliases": ["lmstudio"],
        "env": None,
        "host_env": "LMSTUDIO_HOST",
        "default_host": "http://localhost:1234",
        "auth_methods": [],
    }


def test_load_without_config_file_is_the_builtins(tmp_path: object) -> None:
    reg = registry.load(f"{tmp_path}/absent/config.toml")
    assert [spec.name for spec in reg.providers] == list(EXPECTED)
