"""``nxuskit-cli run``: an env-only program gets the stored key from a real nxuskitd, with its
exit status, its signals, masking and the caller's environment as they should be."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Daemon, Sandbox, cli_command, run_cli
from tests.integration.conftest import wait_until
from tests.integration.terminal import Terminal

SECRET = "sk-run-test-5d1e9a7c3b2f"
CONCEALED = "<concealed by nxuskit>"
PROGRAM = str(Path(__file__).with_name("env_program.py"))


@pytest.fixture
def stored(sandbox: Sandbox, daemon: Daemon) -> Sandbox:
    """A daemon holding SECRET for openai."""
    assert run_cli(sandbox, "provider", "set", "openai", SECRET).returncode == 0
    return sandbox


def program(*arguments: str) -> list[str]:
    return ["--", sys.executable, PROGRAM, *arguments]


def test_the_program_gets_the_stored_key_and_its_exit_status_is_ours(stored: Sandbox) -> None:
    result = run_cli(stored, "run", "-p", "openai", "--no-masking", *program("key", "7"))
    assert result.returncode == 7
    assert result.stdout == f"key={SECRET}\n"
    assert result.stderr == ""


def test_a_key_the_program_prints_is_masked(stored: Sandbox) -> None:
    result = run_cli(stored, "run", "-p", "gpt", *program("key"))
    assert result.returncode == 0
    assert result.stdout == f"key={CONCEALED}\n"
    assert SECRET not in result.stderr


def test_a_key_split_across_two_writes_is_masked(stored: Sandbox) -> None:
    result = run_cli(stored, "run", "-p", "openai", *program("split"))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"before {CONCEALED} after\n"
    assert result.stderr == f"stderr {CONCEALED}\n"


def test_stdout_and_stderr_into_one_file_keep_one_order(stored: Sandbox) -> None:
    code = (
        "import os, sys\n"
        "for n in range(50):\n"
        "    os.write(1 + n % 2, f'{n} {os.environ[\"OPENAI_API_KEY\"]}\\n'.encode())\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "nxuskit_cli", "run", "-p", "openai", "--", sys.executable,
         "-c", code],
        env=stored.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30,
        check=False,
    )  # fmt: skip
    assert result.returncode == 0
    assert result.stdout.decode() == "".join(f"{n} {CONCEALED}\n" for n in range(50))


def test_no_masking_passes_the_output_as_it_is(stored: Sandbox) -> None:
    result = run_cli(stored, "run", "--no-masking", "-p", "openai", *program("split"))
    assert result.stdout == f"before {SECRET} after\n"
    assert result.stderr == f"stderr {SECRET}\n"


def test_nothing_else_in_the_environment_changes(stored: Sandbox) -> None:
    # No locale variable: Python, starting in the C locale, adds LC_CTYPE to its own
    # environment (PEP 538); the command must not get it from nxuskit-cli.
    env = {k: v for k, v in stored.env.items() if not k.startswith(("LC_", "LANG"))}
    env["SOME_SETTING"] = "kept as it is"
    result = subprocess.run(
        [sys.executable, "-m", "nxuskit_cli", "run", "-p", "openai", *program("environ")],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {**env, "OPENAI_API_KEY": CONCEALED}


def test_a_variable_set_by_the_caller_wins(stored: Sandbox) -> None:
    mine = "sk-caller-own-0a9b8c7d"
    result = run_cli(
        stored, "run", "-p", "openai", "--no-masking", *program("key"),
        env={"OPENAI_API_KEY": mine},
    )  # fmt: skip
    assert result.stdout == f"key={mine}\n"
    masked = run_cli(stored, "run", "-p", "openai", *program("key"), env={"OPENAI_API_KEY": mine})
    assert masked.stdout == f"key={CONCEALED}\n"  # the caller's key is a secret too


def test_an_unauthenticated_provider_fails_before_the_command_runs(stored: Sandbox) -> None:
    marker = stored.root / "ran"
    result = run_cli(
        stored, "run", "-p", "openai", "-p", "groq", "--", sys.executable, "-c",
        f"open({str(marker)!r}, 'w')",
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.startswith("nxuskit-cli: no credential for groq")
    assert len(result.stderr.splitlines()) == 1
    assert not marker.exists()


def test_all_gives_every_authenticated_provider(stored: Sandbox) -> None:
    assert run_cli(stored, "provider", "set", "groq", "gsk-run-test-11aa22bb").returncode == 0
    code = "import os; print(sorted(k for k in os.environ if k in {sys_names}))"
    names = {"OPENAI_API_KEY", "GROQ_API_KEY", "MISTRAL_API_KEY", "OLLAMA_HOST"}
    result = run_cli(
        stored, "run", "--all", "--", sys.executable, "-c", code.format(sys_names=names)
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == "['GROQ_API_KEY', 'OPENAI_API_KEY']\n"


def test_a_local_provider_gets_its_host_variable(stored: Sandbox) -> None:
    show = ["--", sys.executable, "-c", "import os; print(os.environ['OLLAMA_HOST'])"]
    assert run_cli(stored, "run", "-p", "ollama", *show).stdout == "http://localhost:11434\n"
    stored.write_config('[providers.ollama]\ndefault_host = "http://gpu-box:11434"\n')
    assert run_cli(stored, "run", "-p", "ollama", *show).stdout == "http://gpu-box:11434\n"
    mine = run_cli(stored, "run", "-p", "ollama", *show, env={"OLLAMA_HOST": "0.0.0.0:9"})
    assert mine.stdout == "0.0.0.0:9\n"


def test_the_command_gets_descriptors_0_1_2_only(stored: Sandbox) -> None:
    extra_read, extra_write = os.pipe()
    try:
        result = subprocess.run(
            [sys.executable, "-m", "nxuskit_cli", "run", "-p", "openai",
             *program("descriptors")],
            env=stored.env, capture_output=True, text=True, timeout=30, check=False,
            pass_fds=(extra_read,),
        )  # fmt: skip
    finally:
        os.close(extra_read)
        os.close(extra_write)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert set(found) == {"0", "1", "2"}
    assert not any(target.startswith("socket:") for target in found.values())


def test_a_missing_command_exits_127_and_one_that_cannot_run_126(stored: Sandbox) -> None:
    missing = run_cli(stored, "run", "-p", "openai", "--", "no-such-command-here")
    assert missing.returncode == 127
    assert missing.stderr == "nxuskit-cli: no-such-command-here: command not found\n"
    plain = stored.root / "not-executable"
    plain.write_text("echo hi\n")
    refused = run_cli(stored, "run", "-p", "openai", "--", str(plain))
    assert refused.returncode == 126
    assert len(refused.stderr.splitlines()) == 1


def test_run_without_providers_is_a_usage_error(stored: Sandbox) -> None:
    result = run_cli(stored, "run", "--", "true")
    assert result.returncode == 2
    assert "-p PROVIDER" in result.stderr


def _log_lines(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_signals_sent_to_nxuskit_cli_reach_the_program(stored: Sandbox) -> None:
    log = stored.root / "signals.log"
    cli = subprocess.Popen(
        cli_command("run", "-p", "openai", *program("signals", str(log))),
        env=stored.env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert wait_until(lambda: _log_lines(log) == ["ready"]), _log_lines(log)
        expected = ["ready"]
        for name in ("SIGINT", "SIGHUP", "SIGQUIT", "SIGWINCH", "SIGUSR1", "SIGUSR2"):
            cli.send_signal(getattr(signal, name))
            expected.append(name)
            assert wait_until(lambda: _log_lines(log) == expected), _log_lines(log)
        cli.send_signal(signal.SIGTERM)
        assert cli.wait(20) == 128 + signal.SIGTERM  # the program's status: killed by it
    finally:
        cli.kill()
        cli.communicate(timeout=10)
    assert _log_lines(log) == [*expected, "SIGTERM"]


def test_ctrl_c_on_a_terminal_reaches_the_program_once(stored: Sandbox) -> None:
    log = stored.root / "signals.log"
    with Terminal(stored, "run", "-p", "openai", *program("signals", str(log))) as terminal:
        assert wait_until(lambda: _log_lines(log) == ["ready"]), _log_lines(log)
        # nxuskit-cli, stopped, cannot act on the terminal's SIGINT before the program got
        # it: a second one passed on afterwards would be recorded on its own.
        os.kill(terminal.process.pid, signal.SIGSTOP)
        terminal.type(b"\x03")
        assert wait_until(lambda: _log_lines(log) == ["ready", "SIGINT"]), _log_lines(log)
        os.kill(terminal.process.pid, signal.SIGCONT)
        os.kill(terminal.process.pid, signal.SIGTERM)  # recorded after any second SIGINT
        status, shown = terminal.finish()
    assert _log_lines(log) == ["ready", "SIGINT", "SIGTERM"]
    assert status == 128 + signal.SIGTERM
    assert b"output to the terminal is not masked" in shown


def test_output_to_a_terminal_passes_unmasked_with_a_note(stored: Sandbox) -> None:
    with Terminal(stored, "run", "-p", "openai", *program("key")) as terminal:
        status, shown = terminal.finish()
    assert status == 0
    assert f"key={SECRET}".encode() in shown
    assert b"note: output to the terminal is not masked" in shown


def test_run_ends_when_the_command_ends_though_a_process_it_left_holds_its_output(
    stored: Sandbox,
) -> None:
    # A pipeline would wait for the background process (60 s); run stops relaying soon
    # after its command exits.
    leave = "sleep 60 & echo $!"
    result = run_cli(stored, "run", "-p", "openai", "--", "sh", "-c", leave, timeout=20)
    left = int(result.stdout)
    try:
        assert result.returncode == 0
    finally:
        os.kill(left, signal.SIGKILL)
