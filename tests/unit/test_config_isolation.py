"""One wrong entry in config.toml costs only that provider (issue 9, item 11).

Before: a malformed URL raised ValueError out of the parser (-32603 and a traceback for
every request, `provider list` exit 70), and one bad table made every provider fail.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.errors import ConfigError

CONFIG = """
[providers.good]
env = "GOOD_KEY"

[providers.acme]
auth_methods = ["oauth"]
[providers.acme.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "http://[::1/token"
client_id = "nxuskit"

[providers.beta]
display_name = "Beta"
env = 5
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def test_bad_entries_break_only_themselves(tmp_path: Path) -> None:
    path = write(tmp_path, CONFIG)
    reg = registry.load(path)  # never raises for what the file says
    assert reg.error is None
    assert reg.get("good").env == "GOOD_KEY"
    assert reg.get("openai").env == "OPENAI_API_KEY"
    assert reg.get("ollama").requires_auth is False
    assert list(reg.broken) == ["acme", "beta"]
    with pytest.raises(ConfigError) as acme:
        reg.get("acme")
    assert f"{path}, line 8: [providers.acme.oauth] token_url is not a valid URL" in str(acme.value)
    with pytest.raises(ConfigError) as beta:
        reg.get("BETA")
    assert f"{path}, line 13: [providers.beta] env must be a string" in str(beta.value)
    assert [spec.name for spec in reg.providers][-1] == "good"


def test_a_broken_override_breaks_the_builtin_and_its_aliases(tmp_path: Path) -> None:
    path = write(tmp_path, "[providers.gpt]\nenv = 5\n")
    reg = registry.load(path)
    for name in ("openai", "gpt"):
        with pytest.raises(ConfigError, match=rf"{path}, line 2: \[providers.gpt\] env"):
            reg.get(name)
    assert reg.find("openai") is None  # never served with the defaults the user overrode
    assert reg.get("groq").name == "groq"


def test_broken_entries_are_listed_with_their_error(tmp_path: Path) -> None:
    reg = registry.load(write(tmp_path, CONFIG))
    wire = reg.to_wire()
    names = [entry["name"] for entry in wire]
    assert names[-3:] == ["good", "acme", "beta"]
    assert all(entry["error"] is None for entry in wire[:-2])
    beta = wire[-1]
    assert beta["error"] == reg.broken["beta"].message
    assert beta["auth_methods"] == []
    assert beta["env"] is None
    assert set(beta) == set(wire[0])  # every entry has the same fields
    status = reg.broken_status()
    assert [(entry["provider"], entry["status"]) for entry in status] == [
        ("acme", "config_invalid"),
        ("beta", "config_invalid"),
    ]
    assert reg.problems() == [reg.broken["acme"].message, reg.broken["beta"].message]


def test_two_providers_claiming_one_alias(tmp_path: Path) -> None:
    path = write(
        tmp_path, '[providers.one]\naliases = ["shared"]\n\n[providers.two]\naliases = ["shared"]\n'
    )
    reg = registry.load(path)
    assert reg.get("shared").name == "one"
    with pytest.raises(ConfigError, match=r"line 5.*alias 'shared' already names the provider"):
        reg.get("two")


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ('default_host = "http://[::1"', "default_host must be an http:// or https:// URL"),
        ('default_host = "ftp://files.example"', "default_host must be an http://"),
        ('default_host = "https://x.example:port"', "default_host must be an http://"),
        ('api_path = "v1"', 'api_path must be a URL path starting with "/"'),
        ('verify_path = "/models?x=1"', "verify_path must be a URL path"),
        ('key_header = "x api key"', "key_header must be a header name"),
    ],
)
def test_new_fields_are_checked(tmp_path: Path, body: str, words: str) -> None:
    path = write(tmp_path, f"[providers.acme]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        registry.load(path).get("acme")
    assert f"{path}, line 2" in str(caught.value)
    assert words in str(caught.value)


def test_verify_and_api_path_fields(tmp_path: Path) -> None:
    text = (
        '[providers.acme]\ndefault_host = "https://api.acme.example"\napi_path = "/v2"\n'
        'verify_path = "/v2/me"\nkey_header = "x-acme-key"\n'
    )
    spec = registry.load(write(tmp_path, text)).get("acme")
    assert (spec.api_path, spec.verify_path, spec.key_header) == ("/v2", "/v2/me", "x-acme-key")
    assert spec.default_base_url == "https://api.acme.example/v2"
    claude = registry.load(write(tmp_path, '[providers.claude]\ndisplay_name = "C"\n')).get(
        "claude"
    )
    assert claude.verify_headers == (("anthropic-version", "2023-06-01"),)  # kept from the built-in
