"""[providers.NAME.oauth] in config.toml: the contract other programs write."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.errors import ConfigError

GOOD = """
[providers.acme]
auth_methods = ["oauth"]
[providers.acme.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "https://id.example.com/token"
client_id = "nxuskit"
scopes = ["openid"]
"""


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def test_the_issue_example_loads(tmp_path: Path) -> None:
    spec = registry.load(write(tmp_path, GOOD)).get("acme")
    assert spec.auth_methods == ("oauth",)
    assert spec.env is None
    assert spec.oauth is not None
    assert spec.oauth["client_id"] == "nxuskit"
    assert spec.oauth["scopes"] == ["openid"]
    assert spec.oauth["redirect_host"] == "127.0.0.1"
    assert spec.oauth["flow"] == "oauth2"
    assert spec.oauth["device_authorization_url"] is None


def test_optional_fields(tmp_path: Path) -> None:
    text = GOOD + textwrap.dedent(
        """
        device_authorization_url = "https://id.example.com/device"
        revocation_url = "https://id.example.com/revoke"
        redirect_host = "localhost"
        extra_authorize_params = { prompt = "consent", audience = "api" }
        """
    )
    oauth = registry.load(write(tmp_path, text)).get("acme").oauth
    assert oauth is not None
    assert oauth["redirect_host"] == "localhost"
    assert oauth["extra_authorize_params"] == {"prompt": "consent", "audience": "api"}
    assert oauth["revocation_url"] == "https://id.example.com/revoke"


def test_an_oauth_table_alone_means_an_oauth_provider(tmp_path: Path) -> None:
    spec = registry.load(write(tmp_path, GOOD.replace('auth_methods = ["oauth"]\n', ""))).get(
        "acme"
    )
    assert spec.auth_methods == ("oauth",)


def test_openrouter_is_built_in_and_overridable(tmp_path: Path) -> None:
    builtin = registry.Registry(registry.BUILTIN).get("openrouter").oauth
    assert builtin is not None
    assert builtin["flow"] == "openrouter"
    assert builtin["authorize_url"] == "https://openrouter.ai/auth"
    assert builtin["token_url"] == "https://openrouter.ai/api/v1/auth/keys"
    text = (
        "[providers.openrouter.oauth]\n"
        'authorize_url = "http://127.0.0.1:8080/auth"\nallow_insecure_http = true\n'
    )
    spec = registry.load(write(tmp_path, text)).get("openrouter")
    assert spec.oauth is not None
    assert spec.oauth["authorize_url"] == "http://127.0.0.1:8080/auth"
    assert spec.oauth["token_url"] == builtin["token_url"]
    assert spec.oauth["flow"] == "openrouter"
    assert spec.auth_methods == ("api_key", "oauth")


@pytest.mark.parametrize(
    ("change", "line", "words"),
    [
        (('client_id = "nxuskit"', "client_id = 5"), 6, "client_id must be a non-empty string"),
        (('client_id = "nxuskit"\n', ""), 3, "client_id is required"),
        (("https://id.example.com/auth", "http://id.example.com/auth"), 4, "https://"),
        (("https://id.example.com/token", "ftp://x/token"), 5, "token_url must be"),
        (("https://id.example.com/token", "http://[::1/token"), 5, "token_url is not a valid"),
        (("https://id.example.com/token", "http://127.0.0.1/t"), 5, "allow_insecure_http = true"),
        (('scopes = ["openid"]', "allow_insecure_http = 1"), 7, "must be true or false"),
        (('scopes = ["openid"]', 'scopes = "openid"'), 7, "scopes must be a list"),
        (('scopes = ["openid"]', 'scopes = ["open id"]'), 7, "scopes must be a list"),
        (('scopes = ["openid"]', 'colour = "blue"'), 7, "unknown field 'colour'"),
        (('scopes = ["openid"]', 'redirect_host = "0.0.0.0"'), 7, "redirect_host"),
        (('scopes = ["openid"]', 'flow = "implicit"'), 7, "flow must be one of"),
        (
            ('scopes = ["openid"]', 'extra_authorize_params = { state = "x" }'),
            7,
            "may not set state",
        ),
        (
            ('scopes = ["openid"]', "extra_authorize_params = { max_age = 5 }"),
            7,
            "table of strings",
        ),
    ],
    ids=[
        "client_id type",
        "client_id missing",
        "http on a public host",
        "not a web URL",
        "malformed URL",
        "loopback http without the flag",
        "flag not a boolean",
        "scopes not a list",
        "scope with a space",
        "unknown field",
        "redirect_host",
        "unknown flow",
        "reserved parameter",
        "non-string parameter",
    ],
)
def test_errors_name_file_line_and_table(
    tmp_path: Path, change: tuple[str, str], line: int, words: str
) -> None:
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(ConfigError) as caught:
        registry.load(path).get("acme")
    message = str(caught.value)
    assert f"{path}, line {line}" in message
    assert "[providers.acme.oauth]" in message
    assert words in message


def test_oauth_method_without_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.acme]\nenv = "ACME_KEY"\nauth_methods = ["oauth"]\n')
    with pytest.raises(ConfigError) as caught:
        registry.load(path).get("acme")
    assert f"{path}, line 3" in str(caught.value)
    assert "[providers.acme.oauth]" in str(caught.value)


def test_an_inline_oauth_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        '[providers.acme]\noauth = { authorize_url = "https://a/x", token_url = "https://a/t" }\n',
    )
    with pytest.raises(ConfigError) as caught:
        registry.load(path).get("acme")
    assert f"{path}, line 2" in str(caught.value)
    assert "client_id is required" in str(caught.value)


def test_loopback_http_needs_the_flag_in_that_table(tmp_path: Path) -> None:
    loopback = GOOD.replace("https://id.example.com", "http://127.0.0.1:9")
    with pytest.raises(ConfigError, match="allow_insecure_http = true"):
        registry.load(write(tmp_path, loopback)).get("acme")
    oauth = (
        registry.load(write(tmp_path, loopback + "allow_insecure_http = true\n")).get("acme").oauth
    )
    assert oauth is not None
    assert oauth["token_url"] == "http://127.0.0.1:9/token"
    assert oauth["allow_insecure_http"] is True
    public = GOOD.replace("https://id.example.com", "http://id.example.com")
    with pytest.raises(ConfigError, match="must be an https:// URL"):  # the flag is loopback only
        registry.load(write(tmp_path, public + "allow_insecure_http = true\n")).get("acme")
