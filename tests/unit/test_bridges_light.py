"""The bridges keep the client light: ``nxuskit.aio`` adds nothing to asyncio but nxuskit's
own modules, and naming ``nxuskit.HttpxAuth`` or ``nxuskit.RequestsAuth`` imports neither
library until an adapter is made. The header each provider's API reads, from the registry.
"""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest
import requests

import nxuskit
from nxuskit import registry
from nxuskit.http_auth import credential_headers
from tests.unit.test_client_light import HEAVY, SLOW_STDLIB, env, loaded_after  # noqa: F401


def test_nxuskit_aio_adds_only_nxuskit_modules_to_asyncios(env: dict[str, str]) -> None:  # noqa: F811
    asyncio_alone = loaded_after("import asyncio", env)
    added = loaded_after("import nxuskit.aio", env) - asyncio_alone
    assert {name for name in added if name.split(".")[0] != "nxuskit"} <= {"__future__"}
    assert not added & set(HEAVY)


def test_import_nxuskit_still_loads_no_asyncio(env: dict[str, str]) -> None:  # noqa: F811
    assert "asyncio" not in loaded_after("import nxuskit", env)


def test_naming_the_adapters_imports_neither_library(env: dict[str, str]) -> None:  # noqa: F811
    loaded = loaded_after("import nxuskit; nxuskit.HttpxAuth; nxuskit.RequestsAuth", env)
    assert not loaded & {"httpx", "requests", "asyncio", *HEAVY}
    assert not loaded & set(SLOW_STDLIB)


@pytest.mark.parametrize(
    ("name", "library"), [("HttpxAuth", "httpx"), ("RequestsAuth", "requests")]
)
def test_an_adapter_without_its_library_says_what_to_install(
    env: dict[str, str],  # noqa: F811
    name: str,
    library: str,
) -> None:
    code = (
        f"import sys; sys.modules[{library!r}] = None\n"
        "import nxuskit\n"
        f"try:\n    nxuskit.{name}('openai')\n"
        "except ImportError as error:\n    print(error)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert done.stdout.strip() == f"nxuskit.{name} needs {library}: pip install {library}"


def test_the_adapters_are_the_libraries_own_auth_types(client_env: object) -> None:
    for auth, base in (
        (nxuskit.HttpxAuth("openai"), httpx.Auth),
        (nxuskit.RequestsAuth("gpt"), requests.auth.AuthBase),
    ):
        assert isinstance(auth, base)
        assert isinstance(auth, nxuskit.HttpxAuth | nxuskit.RequestsAuth)
        assert type(auth).__name__ == repr(auth).split("(")[0]
    assert repr(nxuskit.RequestsAuth("claude")) == "RequestsAuth('claude')"
    with pytest.raises(nxuskit.UnknownProvider):
        nxuskit.HttpxAuth("gpt\x1f")


EXPECTED = {
    "openai": {"Authorization": "Bearer KEY"},
    "claude": {"x-api-key": "KEY", "anthropic-version": "2023-06-01"},
    "gemini": {"x-goog-api-key": "KEY"},
    "azure-openai": {"api-key": "KEY"},
    "openrouter": {"Authorization": "Bearer KEY"},
    "ollama": {},
}


@pytest.mark.parametrize("provider", EXPECTED)
def test_each_provider_has_its_apis_header(client_env: object, provider: str) -> None:
    spec = registry.load().get(provider)
    secret = "KEY" if spec.requires_auth else None
    assert credential_headers(spec, secret) == EXPECTED[provider]


@pytest.mark.parametrize("bad", ["sk-abc\ndef", "sk-abc\rdef", "sk-abc\x01", "sk-abc\x7f"])
def test_a_key_no_header_can_carry_is_refused_without_showing_it(
    client_env: object, monkeypatch: pytest.MonkeyPatch, bad: str
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", bad)
    with (
        httpx.Client(auth=nxuskit.HttpxAuth("openai")) as client,
        pytest.raises(nxuskit.InvalidArgument) as caught,
    ):
        client.get("http://127.0.0.1:9/never-sent")
    assert "control character" in str(caught.value)
    assert "abc" not in str(caught.value)
