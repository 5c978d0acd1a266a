"""nxuskit-cli end to end, against a real nxuskitd: the product page's commands."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import time

import pytest

from tests.conftest import Daemon, Sandbox, run_cli

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
    leader, follower = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "nxuskit_cli", "provider", "set", "together"],
        env=sandbox.env,
        stdin=follower,
        stdout=follower,
        stderr=follower,
    )
    os.close(follower)
    seen = b""
    deadline = time.monotonic() + 20
    # click prints the prompt, then getpass turns echo off (flushing input) and prints
    # the final space: only after that space is typing safe.
    while not seen.endswith(b"together: ") and time.monotonic() < deadline:
        seen += os.read(leader, 1024)
    assert b"API key for together" in seen
    os.write(leader, SECRET.encode() + b"\r")
    assert process.wait(20) == 0
    try:
        while True:
            chunk = os.read(leader, 1024)
            if not chunk:
                break
            seen += chunk
    except OSError:  # EIO once the child closed the terminal
        pass
    os.close(leader)
    assert SECRET.encode() not in seen
    assert b"Stored the API key for together" in seen


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
    result = run_cli(sandbox, "provider", "status")
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
