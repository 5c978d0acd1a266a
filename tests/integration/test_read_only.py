"""Commands that only look never start nxuskitd, and `daemon status` is quick to say a
daemon does not answer (issue 9 items 14 and 15)."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import nxuskitd_pids

AUTOSTART_ALLOWED = {"NXUSKIT_AUTOSTART": "1"}

READ_ONLY = [
    ["provider", "status"],
    ["provider", "status", "groq"],
    ["provider", "status", "--json"],
    ["daemon", "status"],
    ["daemon", "status", "--json"],
    ["daemon", "lock"],
]


def _error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.mark.parametrize("args", READ_ONLY, ids=" ".join)
def test_a_command_that_only_looks_never_starts_a_daemon(sandbox: Sandbox, args: list[str]) -> None:
    result = run_cli(sandbox, *args, env=AUTOSTART_ALLOWED)
    assert result.returncode == 4, result.stderr
    line = _error_line(result)
    assert f"nxuskitd is not running at {sandbox.socket_path}" in line
    assert "this command never starts it" in line
    assert "nxuskit-cli daemon start" in line
    assert nxuskitd_pids(sandbox) == []
    assert not sandbox.socket_path.parent.exists()  # not even its directory was made


def test_a_command_that_changes_something_still_starts_one(sandbox: Sandbox) -> None:
    result = run_cli(sandbox, "provider", "remove", "openai", env=AUTOSTART_ALLOWED)
    assert result.returncode == 0, result.stderr
    assert len(nxuskitd_pids(sandbox)) == 1


def test_provider_status_without_a_daemon_shows_what_the_environment_decides(
    sandbox: Sandbox,
) -> None:
    env = {**AUTOSTART_ALLOWED, "OPENAI_API_KEY": "sk-from-env-0123"}
    table = run_cli(sandbox, "provider", "status", env=env)
    assert table.returncode == 4
    assert "stored credentials are shown as unknown" in _error_line(table)
    rows = {line.split()[0]: line.split()[1:] for line in table.stdout.splitlines()[2:]}
    assert rows["openai"] == ["Authenticated", "env", "api_key"]
    assert rows["groq"] == ["Unknown", "\u2014", "api_key"]
    assert rows["ollama"][:2] == ["Not", "required"]
    listed = run_cli(sandbox, "provider", "status", "--json", env=env)
    by_name = {entry["provider"]: entry for entry in json.loads(listed.stdout)}
    assert (by_name["openai"]["status"], by_name["openai"]["source"]) == ("authenticated", "env")
    assert (by_name["groq"]["status"], by_name["groq"]["source"]) == ("unknown", None)
    one = run_cli(sandbox, "provider", "status", "openai", env=env)  # decided here: no daemon
    assert one.returncode == 0, one.stderr
    assert "sk-from-env" not in table.stdout + listed.stdout + one.stdout
    assert nxuskitd_pids(sandbox) == []


def test_daemon_status_reports_a_stopped_daemon_as_not_answering(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    os.kill(daemon.process.pid, signal.SIGSTOP)
    try:
        # The client's own wait is 30 s; the command's is 2 s (run_cli gives up at 20).
        result = run_cli(sandbox, "daemon", "status", env=AUTOSTART_ALLOWED, timeout=20)
    finally:
        os.kill(daemon.process.pid, signal.SIGCONT)
    assert result.returncode == 4
    line = _error_line(result)
    assert f"nxuskitd (pid {daemon.process.pid}) at {sandbox.socket_path}" in line
    assert "is not answering (no answer within 2 s)" in line
    assert f"kill -CONT {daemon.process.pid}" in line
    assert result.stdout == ""
    answered = run_cli(sandbox, "daemon", "status", "--json")  # resumed: it answers again
    assert json.loads(answered.stdout)["pid"] == daemon.process.pid


def test_help_says_what_the_looking_commands_do_without_a_daemon(sandbox: Sandbox) -> None:
    for args in (["provider", "status"], ["daemon", "status"], ["daemon", "lock"]):
        text = " ".join(run_cli(sandbox, *args, "--help").stdout.split())
        assert "Never starts nxuskitd" in text
        assert "exits 4" in text
    root = " ".join(run_cli(sandbox, "--help").stdout.split())
    assert "NXUSKIT_TIMEOUT" in root
    assert "4 daemon unavailable: not running" in root
