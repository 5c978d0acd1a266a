"""nxuskit-cli end to end, against a real nxuskitd: the product page's commands."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable

import pytest

from nxuskit import registry
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.terminal import Terminal

SECRET = "sk-cli-test-8f3a1c0d9e7b"


def _assert_quiet_about(secret: str, *results: subprocess.CompletedProcess[str]) -> None:
    for result in results:
        assert secret not in result.stdout
        assert secret not in result.stderr


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    return lines[0]


def test_set_status_remove_cycle(sandbox: Sandbox, daemon: Daemon) -> None:
    before = run_cli(sandbox, "provider", "status", "openai")
    assert before.returncode == 1
    assert "Not authenticated" in before.stdout

    stored = run_cli(sandbox, "provider", "set", "openai", SECRET)
    assert stored.returncode == 0, stored.stderr
    after = run_cli(sandbox, "provider", "status", "openai")
    assert after.returncode == 0
    row = next(line for line in after.stdout.splitlines() if line.startswith("openai"))
    assert row.split()[:3] == ["openai", "Authenticated", "store"]

    removed = run_cli(sandbox, "provider", "remove", "gpt")  # an alias names the same provider
    assert removed.returncode == 0
    assert "Removed" in removed.stdout
    again = run_cli(sandbox, "provider", "remove", "openai")
    assert again.returncode == 0
    assert "nothing removed" in again.stdout
    assert run_cli(sandbox, "provider", "status", "openai").returncode == 1
    _assert_quiet_about(SECRET, before, stored, after, removed, again)


def test_status_table_matches_the_product_page(sandbox: Sandbox, daemon: Daemon) -> None:
    run_cli(sandbox, "provider", "set", "claude", SECRET)
    result = run_cli(sandbox, "provider", "status", env={"OPENAI_API_KEY": "sk-from-env"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["Provider", "Status", "Source", "Auth", "Methods"]
    rows = {line.split()[0]: line for line in lines[2:] if line.strip()}
    assert rows["openai"].split()[1:] == ["Authenticated", "env", "api_key"]
    assert rows["claude"].split()[1:] == ["Authenticated", "store", "api_key"]
    assert rows["groq"].split()[1:] == ["Not", "authenticated", "\u2014", "api_key"]
    assert rows["ollama"].split()[1:] == ["Not", "required", "\u2014", "\u2014"]
    assert rows["lm-studio"].split()[1:] == ["Not", "required", "\u2014", "\u2014"]
    assert "sk-from-env" not in result.stdout
    _assert_quiet_about(SECRET, result)


def test_status_json(sandbox: Sandbox, daemon: Daemon) -> None:
    run_cli(sandbox, "provider", "set", "mistral", SECRET)
    everything = run_cli(sandbox, "provider", "status", "--json")
    assert everything.returncode == 0
    entries = json.loads(everything.stdout)
    assert isinstance(entries, list)
    by_name = {entry["provider"]: entry for entry in entries}
    assert by_name["mistral"]["status"] == "authenticated"
    assert by_name["mistral"]["source"] == "store"
    assert by_name["mistral"]["auth_methods"] == ["api_key"]
    assert by_name["groq"] == {**by_name["groq"], "status": "not_authenticated", "source": None}
    assert by_name["ollama"]["status"] == "not_required"
    assert by_name["ollama"]["auth_methods"] == []
    one = run_cli(sandbox, "provider", "status", "groq", "--json")
    assert one.returncode == 1
    assert [entry["provider"] for entry in json.loads(one.stdout)] == ["groq"]
    local = run_cli(sandbox, "provider", "status", "ollama", "--json")
    assert local.returncode == 0
    _assert_quiet_about(SECRET, everything, one, local)


def test_set_reads_stdin_when_the_key_is_omitted(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "set", "groq", input=SECRET + "\n")
    assert result.returncode == 0, result.stderr
    _assert_quiet_about(SECRET, result)
    import nxuskit

    resolution = nxuskit.auth_resolve("groq")
    assert resolution.secret == SECRET  # the newline was not kept
    assert resolution.source == "store"


def test_set_with_empty_stdin_is_refused(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "set", "groq", input="")
    assert result.returncode == 8
    assert "stdin" in _one_error_line(result)


def test_set_prompts_without_echo_on_a_terminal(sandbox: Sandbox, daemon: Daemon) -> None:
    with Terminal(sandbox, "provider", "set", "together") as terminal:
        # getpass turns echo off (flushing input) before it shows the prompt: only after
        # the prompt is typing safe.
        terminal.read_until(b"API key for together: ")
        terminal.type(SECRET.encode() + b"\r")
        status, seen = terminal.finish()
    assert status == 0, seen
    assert SECRET.encode() not in seen
    assert b"Stored the API key for together" in seen


def _after_prompt(seen: bytes, provider: str) -> list[str]:
    shown = seen.decode().split(f"API key for {provider}: ", 1)[1]
    return [line for line in shown.splitlines() if line.strip()]


def test_ctrl_c_at_the_prompt_exits_130_with_one_line(sandbox: Sandbox, daemon: Daemon) -> None:
    with Terminal(sandbox, "provider", "set", "groq") as terminal:
        terminal.read_until(b"API key for groq: ")
        terminal.type(b"gsk-half-typed\x03")  # Ctrl-C: SIGINT from the terminal
        status, seen = terminal.finish()
    assert status == 130, seen
    assert _after_prompt(seen, "groq") == ["nxuskit-cli: interrupted; nothing was stored"]
    assert b"gsk-half-typed" not in seen
    assert run_cli(sandbox, "provider", "status", "groq").returncode == 1


def test_ctrl_d_at_the_prompt_says_no_key_was_entered(sandbox: Sandbox, daemon: Daemon) -> None:
    with Terminal(sandbox, "provider", "set", "groq") as terminal:
        terminal.read_until(b"API key for groq: ")
        terminal.type(b"\x04")  # Ctrl-D on an empty line: end of input
        status, seen = terminal.finish()
    assert status == 8, seen  # invalid argument, as for empty stdin; never 1
    (line,) = _after_prompt(seen, "groq")
    assert line == "nxuskit-cli: no API key entered for groq: nothing was stored"
    assert run_cli(sandbox, "provider", "status", "groq").returncode == 1


def test_a_closed_pipe_ends_quietly_as_git_does(sandbox: Sandbox, daemon: Daemon) -> None:
    """`nxuskit-cli provider list | head -1`: when the reader has gone, no message, and
    death by SIGPIPE (the shell's 141), as git and gh end; not exit 1 ("not
    authenticated")."""
    for args in (["provider", "list"], ["provider", "status"], ["daemon", "status", "--json"]):
        reader, writer = os.pipe()
        os.close(reader)  # the reader went away before the first write
        try:
            done = subprocess.run(
                [sys.executable, "-m", "nxuskit_cli", *args], env=sandbox.env, stdout=writer,
                stderr=subprocess.PIPE, text=True, timeout=30, check=False,
            )  # fmt: skip
        finally:
            os.close(writer)
        assert done.returncode == -signal.SIGPIPE, (args, done.returncode, done.stderr)
        assert done.stderr == ""


def test_a_dash_reads_the_key_from_stdin(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "set", "groq", "-", input=SECRET + "\n")
    assert result.returncode == 0, result.stderr
    assert "shell history" not in result.stderr  # no key on the command line
    import nxuskit

    assert nxuskit.auth_resolve("groq").secret == SECRET
    _assert_quiet_about(SECRET, result)


def test_set_says_when_it_replaced_a_stored_key(sandbox: Sandbox, daemon: Daemon) -> None:
    first = run_cli(sandbox, "provider", "set", "mistral", input="sk-first-0001\n")
    assert first.stdout.strip() == "Stored the API key for mistral."
    second = run_cli(sandbox, "provider", "set", "mistral", input=SECRET + "\n")
    assert second.returncode == 0, second.stderr
    assert "replacing the one stored before" in second.stdout
    as_json = run_cli(sandbox, "provider", "set", "mistral", "--json", input=SECRET + "\n")
    assert json.loads(as_json.stdout) == {"provider": "mistral", "stored": True, "replaced": True}
    run_cli(sandbox, "provider", "remove", "mistral")
    fresh = run_cli(sandbox, "provider", "set", "mistral", "--json", input=SECRET + "\n")
    assert json.loads(fresh.stdout)["replaced"] is False
    _assert_quiet_about(SECRET, first, second, as_json, fresh)
    assert "sk-first-0001" not in first.stdout + first.stderr


def test_a_key_on_the_command_line_is_warned_about(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "set", "groq", SECRET)
    assert result.returncode == 0, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "shell history" in line
    assert "`ps`" in line
    assert "nxuskit-cli provider set groq -" in line
    _assert_quiet_about(SECRET, result)


def test_output_fits_80_columns_with_a_long_store_path(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    data = sandbox.root / ("d" * 70) / ("e" * 40)
    # --store auto without a keyring: the file store, with the long reason the issue saw
    spawn("--store", "auto", env={**sandbox.env, "XDG_DATA_HOME": str(data)})
    assert run_cli(sandbox, "provider", "set", "claude", input=SECRET + "\n").returncode == 0
    store = json.loads(run_cli(sandbox, "daemon", "status", "--json").stdout)["store"]
    assert "DBUS_SESSION_BUS_ADDRESS" in store["reason"]
    for args, shown in (
        (["provider", "list"], ""),
        (["provider", "status"], store["reason"]),
        (["daemon", "status"], f"{store['description']} ({store['reason']})"),
        (["store", "status"], f"{store['description']} {store['reason']}"),
    ):
        result = run_cli(sandbox, *args)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert max(len(line) for line in lines) <= 80, result.stdout
        # wrapped, not cut: every word that fits a line stays whole on one line, and the
        # path reads whole once its lines are joined again
        for word in shown.split():
            assert len(word) > 60 or any(word in line for line in lines), (word, lines)
        if str(data) in shown:
            assert str(data) in "".join(line.strip() for line in lines), result.stdout


def test_output_follows_columns(sandbox: Sandbox) -> None:
    wide = run_cli(sandbox, "provider", "list", env={"COLUMNS": "200"})
    assert len(wide.stdout.splitlines()) == 2 + len(registry.BUILTIN)  # one line each
    narrow = run_cli(sandbox, "provider", "list", env={"COLUMNS": "60"})
    assert max(len(line) for line in narrow.stdout.splitlines()) <= 60


def test_errors_are_one_line_with_distinct_exit_codes(sandbox: Sandbox, daemon: Daemon) -> None:
    unknown = run_cli(sandbox, "provider", "set", "nosuch", SECRET)
    assert unknown.returncode == 3
    assert "known providers are openai" in _one_error_line(unknown)

    no_key_needed = run_cli(sandbox, "provider", "set", "ollama", SECRET)
    assert no_key_needed.returncode == 8
    assert "does not take an API key" in _one_error_line(no_key_needed)

    usage = run_cli(sandbox, "provider", "set")
    assert usage.returncode == 2
    _assert_quiet_about(SECRET, unknown, no_key_needed, usage)


def test_no_daemon_and_no_autostart(sandbox: Sandbox) -> None:
    # A command that would start a daemon names what keeps it from doing so; the
    # commands that only look never start one (tests/integration/test_read_only.py).
    result = run_cli(sandbox, "provider", "remove", "openai")
    assert result.returncode == 4
    line = _one_error_line(result)
    assert "nxuskitd" in line
    assert "NXUSKIT_AUTOSTART" in line


def test_env_credentials_need_no_daemon(sandbox: Sandbox) -> None:
    result = run_cli(sandbox, "provider", "status", "openai", env={"OPENAI_API_KEY": SECRET})
    assert result.returncode == 0
    assert "env" in result.stdout
    _assert_quiet_about(SECRET, result)


def test_custom_provider_from_config(sandbox: Sandbox, daemon: Daemon) -> None:
    sandbox.write_config(
        '[providers.acme]\ndisplay_name = "Acme"\nenv = "ACME_KEY"\nauth_methods = ["api_key"]\n'
    )
    listed = run_cli(sandbox, "provider", "list", "--json")
    assert any(p["name"] == "acme" and p["env"] == "ACME_KEY" for p in json.loads(listed.stdout))
    assert run_cli(sandbox, "provider", "set", "acme", SECRET).returncode == 0
    status = run_cli(sandbox, "provider", "status", "acme", "--json")
    assert json.loads(status.stdout)[0]["source"] == "store"
    from_env = run_cli(sandbox, "provider", "status", "acme", "--json", env={"ACME_KEY": "x"})
    assert json.loads(from_env.stdout)[0]["source"] == "env"


def test_bad_config_names_file_and_line(sandbox: Sandbox) -> None:
    path = sandbox.write_config('[providers.acme]\nenv = "ACME_KEY"\nauth_methods = "api_key"\n')
    result = run_cli(sandbox, "provider", "status", "acme")
    assert result.returncode == 9
    line = _one_error_line(result)
    assert str(path) in line
    assert "line 3" in line
    listed = run_cli(sandbox, "provider", "list")  # lists everything, the bad entry too
    assert listed.returncode == 0
    assert f"{path}, line 3" in listed.stderr


def test_list_shows_builtins(sandbox: Sandbox) -> None:
    result = run_cli(sandbox, "provider", "list")
    assert result.returncode == 0
    for name, env in [
        ("openai", "OPENAI_API_KEY"),
        ("claude", "ANTHROPIC_API_KEY"),
        ("openrouter", "OPENROUTER_API_KEY"),
        ("ollama", "OLLAMA_HOST"),
    ]:
        row = next(line for line in result.stdout.splitlines() if line.startswith(name + " "))
        assert env in row


@pytest.mark.parametrize(
    "args", [["--help"], ["provider", "--help"], ["provider", "set", "--help"]]
)
def test_help_teaches(sandbox: Sandbox, args: list[str]) -> None:
    result = run_cli(sandbox, *args)
    assert result.returncode == 0
    assert "Usage:" in result.stdout
    assert "Exit codes" in result.stdout or "prompted" in result.stdout


def test_python_api_end_to_end(sandbox: Sandbox, daemon: Daemon) -> None:
    import nxuskit

    nxuskit.auth_set_credential("perplexity", SECRET)
    resolution = nxuskit.auth_resolve("perplexity")
    assert (resolution.secret, resolution.source, resolution.auth_method) == (
        SECRET,
        "store",
        "api_key",
    )
    assert SECRET not in repr(resolution)
    assert nxuskit.auth_resolve("perplexity", api_key="sk-explicit").source == "explicit"
    provider = nxuskit.Provider.create("perplexity")
    assert provider.api_key == SECRET
    assert provider.base_url == "https://api.perplexity.ai"
    assert SECRET not in repr(provider)
    status = nxuskit.auth_status("perplexity")
    assert (status.provider, status.status, status.source) == (
        "perplexity",
        "authenticated",
        "store",
    )
    assert nxuskit.auth_remove_credential("perplexity") is True
    with pytest.raises(nxuskit.NotAuthenticated, match="nxuskit-cli provider set perplexity"):
        nxuskit.auth_resolve("perplexity")


def test_swapped_arguments_do_not_echo_the_key(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "set", "gsk_shortkey123", "groq")
    assert result.returncode == 8
    assert "swapped" in _one_error_line(result)
    assert "gsk_shortkey123" not in result.stderr
    long_unknown = run_cli(sandbox, "provider", "status", "sk-proj-abcdefghijklmnopqrstuvwxyz")
    assert long_unknown.returncode == 3
    assert "sk-proj" not in long_unknown.stderr
