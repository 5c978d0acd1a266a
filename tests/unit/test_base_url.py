"""``Provider.create().base_url``: a URL a client can use, by one convention (issue 9, item 19).

The convention: the OpenAI-compatible API root, /v1 (or its equivalent) included, for
every provider that has one; Anthropic's is the root its SDK takes. The variable each
provider's own SDK reads (OPENAI_BASE_URL, OLLAMA_HOST, ...) wins over the default.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from nxuskit import Provider
from nxuskit.errors import InvalidArgument
from nxuskit.provider import base_url
from nxuskit.registry import BUILTIN, Registry

REGISTRY = Registry(BUILTIN)


@pytest.mark.parametrize(
    ("provider", "variable", "value", "expected"),
    [
        ("ollama", "OLLAMA_HOST", "0.0.0.0", "http://localhost:11434/v1"),
        ("ollama", "OLLAMA_HOST", "0.0.0.0:11500", "http://localhost:11500/v1"),
        ("ollama", "OLLAMA_HOST", "::", "http://localhost:11434/v1"),
        ("ollama", "OLLAMA_HOST", "[::1]:8080", "http://[::1]:8080/v1"),
        ("ollama", "OLLAMA_HOST", ":11500", "http://localhost:11500/v1"),
        ("ollama", "OLLAMA_HOST", "gpu-box", "http://gpu-box:11434/v1"),
        ("ollama", "OLLAMA_HOST", "https://gpu-box", "https://gpu-box/v1"),
        ("ollama", "OLLAMA_HOST", "http://gpu-box:11434/v1/", "http://gpu-box:11434/v1"),
        ("lm-studio", "LMSTUDIO_HOST", "localhost:1234", "http://localhost:1234/v1"),
        ("openai", "OPENAI_BASE_URL", "http://127.0.0.1:4000/v1", "http://127.0.0.1:4000/v1"),
        ("openai", "OPENAI_BASE_URL", "https://proxy.example/openai/", "https://proxy.example/openai"),
        ("claude", "ANTHROPIC_BASE_URL", "https://gw.example", "https://gw.example"),
        ("groq", "GROQ_BASE_URL", "https://gw.example", "https://gw.example/openai/v1"),
        ("together", "TOGETHER_BASE_URL", "https://gw.example/v1", "https://gw.example/v1"),
        ("perplexity", "PERPLEXITY_BASE_URL", "https://gw.example", "https://gw.example"),
        ("gemini", "GOOGLE_GEMINI_BASE_URL", "https://gw.example", "https://gw.example/v1beta/openai"),
        ("cohere", "CO_API_URL", "https://gw.example", "https://gw.example/compatibility/v1"),
        ("azure-openai", "AZURE_OPENAI_ENDPOINT", "https://acme.openai.azure.com/",
         "https://acme.openai.azure.com/openai/v1"),
    ],
)  # fmt: skip
def test_the_sdk_variable_gives_a_usable_url(
    provider: str, variable: str, value: str, expected: str
) -> None:
    assert base_url(REGISTRY.get(provider), {variable: value}) == expected


def test_every_local_and_remote_default_follows_the_convention() -> None:
    bases = {spec.name: base_url(spec, {}) for spec in BUILTIN}
    assert bases["ollama"] == "http://localhost:11434/v1"  # /v1, like the others
    assert bases["lm-studio"] == "http://localhost:1234/v1"
    assert bases["openai"] == "https://api.openai.com/v1"
    assert bases["claude"] == "https://api.anthropic.com"  # the Anthropic SDK's root
    assert bases["azure-openai"] is None  # no default: AZURE_OPENAI_ENDPOINT names it


@pytest.mark.parametrize("value", ["http://[::1", "http://gpu-box:port", "ftp://gpu-box"])
def test_a_variable_without_a_url_is_a_clear_error(value: str) -> None:
    with pytest.raises(InvalidArgument, match=r"^OLLAMA_HOST is not a URL or host\[:port\]"):
        base_url(REGISTRY.get("ollama"), {"OLLAMA_HOST": value})


def test_provider_create_reads_the_sdk_variables(
    client_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:4000/v1")
    monkeypatch.setenv("OLLAMA_HOST", "0.0.0.0")
    assert Provider.create("openai", api_key="sk-x").base_url == "http://127.0.0.1:4000/v1"
    assert Provider.create("ollama").base_url == "http://localhost:11434/v1"
