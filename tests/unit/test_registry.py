"""The built-in providers, their aliases, and lookups."""

from __future__ import annotations

import pytest

from nxuskit import registry
from nxuskit.errors import UnknownProvider
from nxuskit.provider import base_url, server_root
from nxuskit.registry import BUILTIN, Registry

# name: (aliases, env, auth_methods, host_env, default base URL)
# The env and host variables are the ones each provider's own SDK reads (the sources are
# in the comments of nxuskit/providers.py).
EXPECTED = {
    "openai": (("gpt",), "OPENAI_API_KEY", ("api_key",), "OPENAI_BASE_URL",
               "https://api.openai.com/v1"),
    "claude": (("anthropic",), "ANTHROPIC_API_KEY", ("api_key",), "ANTHROPIC_BASE_URL",
               "https://api.anthropic.com"),
    "groq": ((), "GROQ_API_KEY", ("api_key",), "GROQ_BASE_URL", "https://api.groq.com/openai/v1"),
    "mistral": ((), "MISTRAL_API_KEY", ("api_key",), None, "https://api.mistral.ai/v1"),
    "fireworks": ((), "FIREWORKS_API_KEY", ("api_key",), None,
                  "https://api.fireworks.ai/inference/v1"),
    "together": ((), "TOGETHER_API_KEY", ("api_key",), "TOGETHER_BASE_URL",
                 "https://api.together.xyz/v1"),
    "openrouter": ((), "OPENROUTER_API_KEY", ("api_key", "oauth"), None,
                   "https://openrouter.ai/api/v1"),
    "perplexity": ((), "PERPLEXITY_API_KEY", ("api_key",), "PERPLEXITY_BASE_URL",
                   "https://api.perplexity.ai"),
    "ollama": ((), None, (), "OLLAMA_HOST", "http://localhost:11434/v1"),
    "lm-studio": (("lmstudio",), None, (), "LMSTUDIO_HOST", "http://localhost:1234/v1"),
    "gemini": ((), "GEMINI_API_KEY", ("api_key",), "GOOGLE_GEMINI_BASE_URL",
               "https://generativelanguage.googleapis.com/v1beta/openai"),
    "xai": ((), "XAI_API_KEY", ("api_key",), None, "https://api.x.ai/v1"),
    "deepseek": ((), "DEEPSEEK_API_KEY", ("api_key",), None, "https://api.deepseek.com/v1"),
    "cohere": ((), "CO_API_KEY", ("api_key",), "CO_API_URL",
               "https://api.cohere.com/compatibility/v1"),
    "azure-openai": ((), "AZURE_OPENAI_API_KEY", ("api_key",), "AZURE_OPENAI_ENDPOINT", None),
}  # fmt: skip

# name: (verify URL without any variable set, key header, other headers)
VERIFY = {
    "openai": ("https://api.openai.com/v1/models", "authorization", ()),
    "claude": ("https://api.anthropic.com/v1/models", "x-api-key",
               (("anthropic-version", "2023-06-01"),)),
    "groq": ("https://api.groq.com/openai/v1/models", "authorization", ()),
    "openrouter": ("https://openrouter.ai/api/v1/key", "authorization", ()),
    "gemini": ("https://generativelanguage.googleapis.com/v1beta/models", "x-goog-api-key", ()),
    "deepseek": ("https://api.deepseek.com/models", "authorization", ()),
    "cohere": ("https://api.cohere.com/v1/models", "authorization", ()),
    "azure-openai": (None, "api-key", ()),
}  # fmt: skip


@pytest.fixture
def builtin() -> Registry:
    return Registry(BUILTIN)


def test_the_builtins_in_order() -> None:
    assert [spec.name for spec in BUILTIN] == list(EXPECTED)


@pytest.mark.parametrize("name", list(EXPECTED))
def test_builtin_fields(builtin: Registry, name: str) -> None:
    aliases, env, methods, host_env, base = EXPECTED[name]
    spec = builtin.get(name)
    assert spec.name == name
    assert spec.aliases == aliases
    assert spec.env == env
    assert spec.auth_methods == methods
    assert spec.host_env == host_env
    assert spec.requires_auth is bool(methods)
    assert spec.default_base_url == base
    assert base_url(spec, {}) == base
    assert spec.display_name


@pytest.mark.parametrize("name", list(VERIFY))
def test_how_each_builtin_is_verified(builtin: Registry, name: str) -> None:
    url, header, headers = VERIFY[name]
    spec = builtin.get(name)
    root = server_root(spec, {})
    assert (root + spec.verify_path if root else None) == url
    assert (spec.key_header, spec.verify_headers) == (header, headers)


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
        "api_path": "/v1",
        "base_url": "http://localhost:1234/v1",
        "error": None,
    }


def test_load_without_config_file_is_the_builtins(tmp_path: object) -> None:
    reg = registry.load(f"{tmp_path}/absent/config.toml")
    assert [spec.name for spec in reg.providers] == list(EXPECTED)
