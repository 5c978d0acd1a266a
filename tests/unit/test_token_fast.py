"""``nxuskit-cli token PROVIDER`` is answered before typer is imported, for exactly that
spelling; everything else is typer's. Checked in fresh interpreters (``sys.modules``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nxuskit_cli.token import fast_arguments
from tests.unit.conftest import PROVIDER_ENV_VARS
from tests.unit.test_client_light import HEAVY, SLOW_STDLIB, loaded_after


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """No provider variable, no config.toml, no daemon, no autostart."""
    clean = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    for name in ("NXUSKIT_SOCKET", "PYTHONSTARTUP", "PYTHONWARNINGS"):
        clean.pop(name, None)
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    clean["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    clean["NXUSKIT_AUTOSTART"] = "0"
    return clean


RUN_MAIN = (
    "import sys\n"
    "sys.argv = ['nxuskit-cli', {arguments}]\n"
    "from nxuskit_cli.__main__ import main\n"
    "try:\n"
    "    main()\n"
    "except SystemExit as exiting:\n"
    "    print('exit', exiting.code, file=sys.stderr)\n"
)


def main_with(*arguments: str) -> str:
    return RUN_MAIN.format(arguments=", ".join(map(repr, arguments)))


@pytest.mark.parametrize(
    ("argv", "found"),
    [
        (["token", "openai"], (None, "openai")),
        (["token", " GPT "], (None, " GPT ")),  # the client matches names, not this parser
        (["--socket", "/s", "token", "openai"], ("/s", "openai")),
        (["--socket=/s", "token", "openai"], ("/s", "openai")),
        (["token", ""], (None, "")),  # typer would pass "" too: an unknown provider
        (["token"], None),
        (["token", "openai", "extra"], None),
        (["token", "--help"], None),
        (["token", "-h"], None),
        (["token", "--", "openai"], None),
        (["--socket", "token", "openai"], None),
        (["--socket=", "token", "openai"], None),
        (["--socket", "-x", "token", "openai"], None),
        (["--version"], None),
        (["provider", "status"], None),
        (["tokens", "openai"], None),
        ([], None),
    ],
)
def test_only_the_plain_token_command_takes_the_fast_path(
    argv: list[str], found: tuple[str | None, str] | None
) -> None:
    assert fast_arguments(argv) == found


def test_token_loads_neither_typer_nor_slow_modules(env: dict[str, str]) -> None:
    loaded = loaded_after(main_with("token", "openai"), {**env, "OPENAI_API_KEY": "sk-light"})
    assert "nxuskit_cli.token" in loaded
    assert not loaded & set(HEAVY) - {"nxuskit_cli"}
    assert not loaded & set(SLOW_STDLIB)


def test_a_token_error_loads_no_typer_either(env: dict[str, str]) -> None:
    loaded = loaded_after(main_with("token", "groq"), env)  # no daemon, autostart off
    assert "nxuskit_cli.token" in loaded
    assert not loaded & {"typer", "rich", "nxuskit_cli.app"}


def test_token_help_is_typer_s(env: dict[str, str]) -> None:
    # The probe's own check: the same way in, another spelling, and typer is there.
    assert "typer" in loaded_after(main_with("token", "--help"), env)
