"""config.toml's ``[team]``: the contract's names, their defaults, and errors that name
the file and line (issue 13). A wrong table costs the team store only."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.errors import ConfigError
from nxuskitd.team.settings import FIELDS, TeamSettings, parse

CONTRACT = ("address", "mount", "path", "field", "auth", "role_id", "secret_id_file",
            "ca_file", "namespace", "cache_ttl", "max_stale")  # fmt: skip


def settings(tmp_path: Path, text: str) -> TeamSettings:
    path = tmp_path / "config.toml"
    path.write_text(text)
    path.chmod(0o600)
    reg = registry.load(str(path))
    assert reg.error is None
    assert not any("team" in warning for warning in reg.warnings)  # a known table
    assert reg.team is not None
    return parse(reg.team)


def test_the_contract_names_are_all_accepted() -> None:
    assert set(CONTRACT) <= set(FIELDS)


def test_a_bare_address_takes_the_documented_defaults(tmp_path: Path) -> None:
    found = settings(tmp_path, '[team]\naddress = "https://bao.example.com:8200/"\n')
    assert found.addresses == ("https://bao.example.com:8200",)
    assert (found.mount, found.path, found.field, found.auth) == (
        "secret", "nxuskit/{provider}", "api_key", "token"
    )  # fmt: skip
    assert (found.cache_ttl, found.max_stale, found.timeout) == (300.0, 3600.0, 5.0)
    assert found.shown_path("openai") == "secret/nxuskit/openai"
    assert found.insecure is False


def test_every_field_and_a_list_of_nodes(tmp_path: Path) -> None:
    found = settings(
        tmp_path,
        "[team]\n"
        'address = ["https://bao-1.example:8200", "https://bao-2.example:8200"]\n'
        'mount = "kv/teams"\npath = "ai/{provider}/key"\nfield = "token"\n'
        'auth = "approle"\nrole_id = "r-1"\nsecret_id_file = "~/.config/nxuskit/secret-id"\n'
        'approle_mount = "ci-approle"\nca_file = "/etc/ssl/team-ca.pem"\nnamespace = "ml"\n'
        "cache_ttl = 60\nmax_stale = 0\ntimeout = 2.5\n",
    )
    assert found.addresses == ("https://bao-1.example:8200", "https://bao-2.example:8200")
    assert found.shown_path("groq") == "kv/teams/ai/groq/key"
    assert found.secret_id_file is not None
    assert not found.secret_id_file.startswith("~")
    assert (found.cache_ttl, found.max_stale, found.timeout) == (60.0, 0.0, 2.5)


@pytest.mark.parametrize(
    ("table", "line", "problem"),
    [
        ("cache_tll = 5", 3, "unknown field 'cache_tll'"),
        ('auth = "ldap"', 3, "auth must be one of 'token', 'approle'"),
        ('auth = "approle"', 3, 'auth = "approle" needs role_id'),
        ('role_id = "r-1"', 3, 'role_id is for auth = "approle"'),
        ('path = "nxuskit/openai"', 3, 'must contain "{provider}"'),
        ('path = "/nxuskit/{provider}"', 3, "no leading or trailing /"),
        ("cache_ttl = -1", 3, "cache_ttl must be a number of seconds, 0 or more"),
        ('ca_file = "ca.pem"', 3, "ca_file must be an absolute path"),
    ],
)
def test_a_wrong_field_names_its_line(tmp_path: Path, table: str, line: int, problem: str) -> None:
    with pytest.raises(ConfigError) as wrong:
        settings(tmp_path, f'[team]\naddress = "https://bao.example"\n{table}\n')
    assert f"config.toml, line {line}: [team] " in wrong.value.message
    assert problem in wrong.value.message


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("bao.example:8200", "must be an https:// URL"),
        ("https://bao.example/v1/secret", "must name the server only"),
        ("http://bao.example:8200", "plain http to another machine"),
        ("http://10.1.2.3:8200", "use https:// (ca_file for a private CA), or set insecure_http"),
    ],
)
def test_an_address_that_would_leak_or_cannot_work_is_refused(
    tmp_path: Path, address: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match="line 2: \\[team\\] address") as wrong:
        settings(tmp_path, f'[team]\naddress = "{address}"\n')
    assert problem in wrong.value.message


def test_plain_http_is_for_loopback_or_an_explicit_insecure_setting(tmp_path: Path) -> None:
    for loopback in ("http://127.0.0.1:8200", "http://[::1]:8200", "http://localhost:8200"):
        assert settings(tmp_path, f'[team]\naddress = "{loopback}"\n').insecure is False
    allowed = settings(tmp_path, '[team]\naddress = "http://bao.lan:8200"\ninsecure_http = true\n')
    assert allowed.insecure is True  # status shows it


def test_a_team_that_is_not_a_table_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a table"):
        settings(tmp_path, 'team = "https://bao.example"\n')
    with pytest.raises(ConfigError, match="needs address"):
        settings(tmp_path, '[team]\nmount = "secret"\n')


def test_the_team_credentials_are_kept_under_names_no_provider_can_have(tmp_path: Path) -> None:
    from nxuskitd.team.session import SECRET_ID_NAME, TOKEN_NAME

    path = tmp_path / "config.toml"
    path.write_text('[providers.":team-token"]\nenv = "X_API_KEY"\n')
    path.chmod(0o600)
    reg = registry.load(str(path))
    assert ":team-token" in reg.broken  # config.toml cannot define such a provider
    for name in (TOKEN_NAME, SECRET_ID_NAME):
        assert reg.find(name) is None
        assert not registry.plain_name(name)  # never listed among orphans, never echoed
