"""config.toml: custom providers, overrides, and errors that name the file and the line.

A wrong entry costs only that provider; a file that cannot be parsed costs its own
providers, never the built-ins.
"""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.errors import ConfigError
from nxuskit.registry import BUILTIN

BUILTINS = len(BUILTIN)


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return str(path)


def test_config_adds_a_provider(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [providers.acme]
        display_name = "Acme AI"
        env = "ACME_KEY"
        host_env = "ACME_HOST"
        default_host = "https://api.acme.example/v1"
        auth_methods = ["api_key"]
        aliases = ["acme-ai"]
        """,
    )
    reg = registry.load(path)
    spec = reg.get("ACME-AI")
    assert spec.name == "acme"
    assert spec.display_name == "Acme AI"
    assert spec.env == "ACME_KEY"
    assert spec.host_env == "ACME_HOST"
    assert spec.default_host == "https://api.acme.example/v1"
    assert spec.auth_methods == ("api_key",)
    assert len(reg.providers) == BUILTINS + 1
    assert reg.get("openai").env == "OPENAI_API_KEY"  # the built-ins stay


def test_minimal_custom_provider_gets_defaults(tmp_path: Path) -> None:
    path = write(tmp_path, "[providers.my-llm]\n")
    spec = registry.load(path).get("my-llm")
    assert spec.auth_methods == ("api_key",)
    assert spec.env == "MY_LLM_API_KEY"
    assert spec.display_name == "my-llm"


def test_custom_local_provider_without_auth(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [providers.vllm]
        auth_methods = []
        host_env = "VLLM_HOST"
        default_host = "http://localhost:8000/v1"
        """,
    )
    spec = registry.load(path).get("vllm")
    assert spec.requires_auth is False
    assert spec.env is None


def test_config_overrides_one_field_of_a_builtin(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [providers.ollama]
        default_host = "http://gpu-box:11434"
        """,
    )
    reg = registry.load(path)
    ollama = reg.get("ollama")
    assert ollama.default_host == "http://gpu-box:11434"
    assert ollama.host_env == "OLLAMA_HOST"  # the rest is the built-in's
    assert ollama.auth_methods == ()
    assert [spec.name for spec in reg.providers].count("ollama") == 1
    assert len(reg.providers) == BUILTINS


def test_override_through_an_alias_changes_the_builtin(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.gpt]\nenv = "MY_OPENAI_KEY"\n')
    reg = registry.load(path)
    assert reg.get("openai").env == "MY_OPENAI_KEY"
    assert reg.get("gpt").name == "openai"
    assert reg.get("openai").aliases == ("gpt",)
    assert len(reg.providers) == BUILTINS


def test_bad_toml_names_file_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        [providers.acme]
        env = "ACME_KEY"
        display_name "missing equals"
        """,
    )
    reg = registry.load(path)
    assert isinstance(reg.error, ConfigError)
    message = str(reg.error)
    assert path in message
    assert "line 3" in message
    assert reg.get("openai").env == "OPENAI_API_KEY"  # the built-ins keep working
    with pytest.raises(ConfigError, match="line 3"):  # acme may be in the broken file
        reg.get("acme")


def test_not_utf8_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'[providers.acme]\nenv = "\xff\xfe"\n')
    reg = registry.load(str(path))
    assert isinstance(reg.error, ConfigError)
    assert str(path) in str(reg.error)


@pytest.mark.parametrize(
    ("body", "line", "words"),
    [
        ('display_name = "Acme"\nenv = 5\n', 3, "env must be a string"),
        ('env = "ACME KEY"\n', 2, "environment variable"),
        ('auth_methods = ["password"]\n', 2, "auth_methods"),
        ('auth_methods = "api_key"\n', 2, "auth_methods"),
        ('display_name = "Acme"\n\ncolour = "blue"\n', 4, "unknown field 'colour'"),
        ("aliases = [1, 2]\n", 2, "aliases"),
        ("default_host = 8080\n", 2, "default_host must be a string"),
        ("oauth = 5\n", 2, "oauth must be a table"),
    ],
    ids=[
        "env not a string",
        "env not a variable name",
        "unknown auth method",
        "auth_methods not a list",
        "unknown field",
        "aliases not names",
        "default_host not a string",
        "oauth not a table",
    ],
)
def test_semantic_errors_name_file_and_line(
    tmp_path: Path, body: str, line: int, words: str
) -> None:
    path = write(tmp_path, "[providers.acme]\n" + body)
    reg = registry.load(path)
    with pytest.raises(ConfigError) as caught:
        reg.get("acme")
    assert reg.broken["acme"].message == str(caught.value)
    message = str(caught.value)
    assert f"{path}, line {line}" in message
    assert words in message
    assert "[providers.acme]" in message


def test_error_points_at_the_right_table(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        # my providers
        [providers.good]
        env = "GOOD_KEY"

        [providers.bad]
        display_name = "Bad"
        env = 12
        """,
    )
    reg = registry.load(path)
    assert reg.get("good").env == "GOOD_KEY"
    with pytest.raises(ConfigError) as caught:
        reg.get("bad")
    assert f"{path}, line 7" in str(caught.value)


def test_bad_provider_name(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers."has space"]\nenv = "X_KEY"\n')
    problem = registry.load(path).broken["has space"]
    assert path in str(problem)
    assert "bad name" in str(problem)


def test_providers_not_a_table(tmp_path: Path) -> None:
    path = write(tmp_path, "# mine\nproviders = 5\n")
    reg = registry.load(path)
    assert reg.error is not None
    assert f"{path}, line 2" in str(reg.error)
    assert len(reg.providers) == BUILTINS


def test_unknown_top_level_keys_are_warnings_with_their_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.acme]\n\n[daemon]\nlog_level = "debug"\n')
    reg = registry.load(path)
    assert reg.get("acme").name == "acme"
    assert reg.error is None
    assert reg.broken == {}
    (warning,) = reg.warnings
    assert f"{path}, line 3" in warning
    assert "'daemon'" in warning
    assert reg.problems() == [warning]
    assert reg.config_info() == {"path": path, "error": None, "warnings": [warning]}


def test_config_path_that_is_a_directory(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.mkdir()
    reg = registry.load(str(path))
    assert str(path) in str(reg.error)
    assert reg.get("claude").name == "claude"


def test_registry_reloads_when_the_file_changes(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.acme]\nenv = "ACME_KEY"\n')
    first = registry.load(path)
    assert registry.load(path) is first  # unchanged file: no re-parse
    assert first.get("acme").env == "ACME_KEY"

    write(tmp_path, '[providers.acme]\nenv = "ACME_TOKEN_V2"\n[providers.beta]\n')
    second = registry.load(path)
    assert second.get("acme").env == "ACME_TOKEN_V2"
    assert second.get("beta").name == "beta"

    # Same size, new content: the modification time tells the change.
    write(tmp_path, '[providers.acme]\nenv = "ACME_TOKEN_V3"\n[providers.gamm]\n')
    stamp = os.stat(path).st_mtime_ns + 2_000_000_000
    os.utime(path, ns=(stamp, stamp))
    third = registry.load(path)
    assert third.get("acme").env == "ACME_TOKEN_V3"
    assert third.find("beta") is None

    os.unlink(path)
    assert registry.load(path).find("acme") is None


def test_broken_edit_is_an_error_then_a_fix_is_picked_up(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.acme]\nenv = "ACME_KEY"\n')
    registry.load(path)
    write(tmp_path, "[providers.acme\n")
    with pytest.raises(ConfigError):
        registry.load(path).get("acme")
    write(tmp_path, '[providers.acme]\nenv = "ACME_FIXED"\n')
    assert registry.load(path).get("acme").env == "ACME_FIXED"


def test_an_alias_cannot_take_over_another_provider(tmp_path: Path) -> None:
    path = write(tmp_path, '[providers.acme]\nenv = "ACME_KEY"\naliases = ["openai"]\n')
    reg = registry.load(path)
    with pytest.raises(ConfigError, match=r"line 3.*alias 'openai' already names"):
        reg.get("acme")
    assert reg.get("openai").env == "OPENAI_API_KEY"
