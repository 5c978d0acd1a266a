"""``nxuskit-cli token``: the stored key for a shell script and for a key helper the way
Claude Code's ``apiKeyHelper`` runs one, against a real nxuskitd; the fast path (no typer)
and typer's path answer alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Daemon, Sandbox, run_cli

SECRET = "sk-ant-token-test-7c4e1f0a2b"
BIN = str(Path(sys.executable).parent)  # where the venv installed nxuskit-cli
# Runs nxuskit-cli with the fast path turned off: typer answers every command.
TYPER_ONLY = (
    "import runpy, nxuskit_cli.token as t; t.answer_fast = lambda argv: False; "
    "runpy.run_module('nxuskit_cli', run_name='__main__')"
)


@pytest.fixture
def stored(sandbox: Sandbox, daemon: Daemon) -> Sandbox:
    """A daemon holding SECRET for claude; nxuskit-cli on PATH."""
    assert run_cli(sandbox, "provider", "set", "claude", SECRET).returncode == 0
    sandbox.env["PATH"] = BIN + os.pathsep + sandbox.env.get("PATH", "")
    return sandbox


def shell(box: Sandbox, command: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["sh", "-c", command], env={**box.env, **env}, capture_output=True, text=True,
        timeout=30, check=False,
    )  # fmt: skip


def test_token_prints_the_key_and_one_newline(stored: Sandbox) -> None:
    result = run_cli(stored, "token", "anthropic")
    assert (result.returncode, result.stdout, result.stderr) == (0, SECRET + "\n", "")


def test_a_shell_script_exports_the_key_for_an_env_only_program(stored: Sandbox) -> None:
    script = stored.root / "call-the-api.sh"
    script.write_text(
        "#!/bin/sh\nset -e\n"
        'ANTHROPIC_API_KEY="$(nxuskit-cli token claude)"\nexport ANTHROPIC_API_KEY\n'
        f"exec {sys.executable} -c 'import os; print(os.environ[\"ANTHROPIC_API_KEY\"])'\n"
    )
    script.chmod(0o700)
    result = subprocess.run(
        [str(script)], env=stored.env, capture_output=True, text=True, timeout=30, check=False
    )
    assert (result.returncode, result.stdout) == (0, SECRET + "\n"), result.stderr


def test_a_key_helper_run_as_claude_code_runs_its_api_key_helper(stored: Sandbox) -> None:
    # Claude Code's settings.json names a shell command; it runs it with the shell and
    # takes its stdout, trimmed, as the key (sent as X-Api-Key).
    settings = {"apiKeyHelper": "nxuskit-cli token claude"}
    result = shell(stored, settings["apiKeyHelper"])
    assert result.returncode == 0
    assert result.stdout.strip() == SECRET
    assert result.stdout == SECRET + "\n"
    assert result.stderr == ""
    assert json.dumps(settings)  # the setting is plain JSON data, as in settings.json


def test_the_environment_wins_without_a_daemon(sandbox: Sandbox) -> None:
    result = run_cli(sandbox, "token", "openai", env={"OPENAI_API_KEY": "sk-env-only-1234"})
    assert (result.returncode, result.stdout) == (0, "sk-env-only-1234\n"), result.stderr


def test_token_starts_the_daemon_like_any_client(stored: Sandbox, daemon: Daemon) -> None:
    daemon.stop()
    result = run_cli(stored, "token", "claude", env={"NXUSKIT_AUTOSTART": "1"})
    assert (result.returncode, result.stdout) == (0, SECRET + "\n"), result.stderr


@pytest.mark.parametrize(
    ("arguments", "env", "status"),
    [
        (["token", "groq"], {}, 1),  # not authenticated
        (["token", "nope"], {}, 3),  # unknown provider
        (["token", "ollama"], {}, 8),  # needs no credential
        (["--socket", "{root}/none.sock", "token", "claude"], {}, 4),  # nothing listens
        (["--socket={root}/none.sock", "token", "claude"], {}, 4),
        (["token", "claude"], {"NXUSKIT_SOCKET": "{root}/none.sock"}, 4),
        (["token", "claude"], {"NXUSKIT_TIMEOUT": "soon"}, 8),
    ],
)
def test_errors_are_the_same_one_line_with_and_without_typer(
    stored: Sandbox, arguments: list[str], env: dict[str, str], status: int
) -> None:
    arguments = [argument.format(root=stored.root) for argument in arguments]
    env = {name: value.format(root=stored.root) for name, value in env.items()}
    fast = run_cli(stored, *arguments, env=env)
    typer = subprocess.run(
        [sys.executable, "-c", TYPER_ONLY, *arguments], env={**stored.env, **env},
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert (fast.returncode, fast.stdout, fast.stderr) == (
        typer.returncode, typer.stdout, typer.stderr,
    )  # fmt: skip
    assert fast.returncode == status
    assert fast.stdout == ""
    assert len(fast.stderr.splitlines()) == 1
    assert fast.stderr.startswith("nxuskit-cli: ")


def test_help_and_usage_errors_go_through_typer(stored: Sandbox) -> None:
    helped = run_cli(stored, "token", "--help")
    assert helped.returncode == 0
    assert "apiKeyHelper" in helped.stdout
    assert run_cli(stored, "token").returncode == 2
    assert run_cli(stored, "token", "claude", "extra").returncode == 2
