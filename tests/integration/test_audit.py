"""The audit trail against a real nxuskitd: what is recorded, for whom, and never a secret.

Each test drives a real daemon with real clients (the library in this process, other
processes, the CLI, an OAuth login against oidc-provider on loopback) and then reads
what the daemon wrote: the file itself, ``audit.query`` and ``nxuskit-cli audit``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import audit, protocol
from nxuskit.client import Client, reset_default
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server

pytestmark = pytest.mark.timeout(120)
SECRET = "sk-audit-5f0e9d8c7b6a"


@pytest.fixture(autouse=True)
def _every_resolve_reaches_the_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the daemon's entries: this process's client cache is off, so each
    resolve is a daemon access (a cached one is not: test_client_cache.py)."""
    monkeypatch.setenv("NXUSKIT_CLIENT_CACHE", "0")


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    """oidc-provider on loopback for the whole session (see oauth_support)."""
    yield from run_auth_server()


@pytest.fixture
def browser(auth_server: AuthServer) -> Iterator[Browser]:
    agent = Browser(auth_server)
    try:
        yield agent
    finally:
        agent.close()


def log_file(box: Sandbox) -> Path:
    return box.root / "state" / "nxuskit" / audit.FILE_NAME


def entries(box: Sandbox) -> list[dict[str, Any]]:
    """Every entry the daemon wrote so far (``audit.query`` first: it flushes the queue)."""
    with Client(str(box.socket_path), autostart=False) as client:
        client.audit_query(limit=protocol.AUDIT_LIMIT_MAX)
    return [json.loads(line) for line in log_file(box).read_text().splitlines() if line]


def resolve_elsewhere(box: Sandbox, provider: str) -> subprocess.CompletedProcess[str]:
    """``auth_resolve`` in a process of its own; it prints its pid and executable."""
    code = (
        "import os, sys, nxuskit\n"
        "print(os.getpid(), os.path.realpath(sys.executable))\n"
        f"nxuskit.auth_resolve({provider!r})\n"
    )
    return subprocess.run([sys.executable, "-c", code], env=box.env, capture_output=True,
                          text=True, timeout=30, check=False)  # fmt: skip


def test_a_resolve_by_another_process_names_its_pid_and_executable(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    nxuskit.auth_set_credential("openai", SECRET)
    done = resolve_elsewhere(sandbox, "gpt")
    assert done.returncode == 0, done.stderr
    pid, executable = done.stdout.split()
    (entry,) = [e for e in entries(sandbox) if e["method"] == protocol.RESOLVE]
    assert entry["pid"] == int(pid) != os.getpid()
    assert entry["executable"] == executable
    assert (entry["provider"], entry["source"], entry["result"]) == ("openai", "store", "ok")
    assert abs(entry["time"] - time.time()) < 60
    (stored,) = [e for e in entries(sandbox) if e["method"] == protocol.SET_CREDENTIAL]
    assert stored["pid"] == os.getpid()  # this process set it


@pytest.mark.skipif(shutil.which("socat") is None, reason="needs socat")
def test_a_client_in_another_program_is_named_by_its_executable(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    nxuskit.auth_set_credential("groq", SECRET)
    request = {"jsonrpc": "2.0", "id": 1, "method": "auth.resolve", "params": {"provider": "groq"}}
    socat = shutil.which("socat")
    assert socat is not None
    command = [socat, "-", f"UNIX-CONNECT:{sandbox.socket_path}"]
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    answer, _ = process.communicate(json.dumps(request) + "\n", timeout=30)
    assert json.loads(answer)["result"]["secret"] == SECRET
    (entry,) = [e for e in entries(sandbox) if e["method"] == protocol.RESOLVE]
    assert (entry["pid"], entry["executable"]) == (process.pid, os.path.realpath(socat))


def test_failures_are_recorded_with_their_kind(sandbox: Sandbox, daemon: Daemon) -> None:
    key_like = "sk-proj-Zq8v2Lm4Xw7Tn1Rb5Kc9"  # pasted where the provider name goes
    missing = resolve_elsewhere(sandbox, "groq")
    assert missing.returncode != 0
    with pytest.raises(nxuskit.UnknownProvider), Client(str(sandbox.socket_path)) as client:
        client.call(protocol.RESOLVE, {"provider": key_like})
    nxuskit.auth_set_credential("mistral", SECRET)
    sandbox.store_file.chmod(0o644)  # another user could read it: the daemon refuses it
    with pytest.raises(nxuskit.PermissionDenied):
        nxuskit.auth_resolve("mistral")
    results = [(e["method"], e["provider"], e["result"]) for e in entries(sandbox)]
    assert results == [
        (protocol.RESOLVE, "groq", "not_authenticated"),
        (protocol.RESOLVE, audit.HIDDEN, "unknown_provider"),
        (protocol.SET_CREDENTIAL, "mistral", "ok"),
        (protocol.RESOLVE, "mistral", "permission_denied"),
    ]
    assert key_like not in log_file(sandbox).read_text()


def test_what_is_not_a_credential_access_is_not_recorded(sandbox: Sandbox, daemon: Daemon) -> None:
    with Client(str(sandbox.socket_path)) as client:
        for method in (protocol.HELLO, protocol.DAEMON_STATUS, protocol.STATUS,
                       protocol.PROVIDER_LIST, protocol.DAEMON_LOCK):  # fmt: skip
            client.call(method, {})
        assert client.audit_query().entries == []
        assert client.daemon_lock() == 0  # locking still works beside the audit trail


def test_an_oauth_login_and_its_use_leave_no_token_in_the_file(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    sandbox.write_config(auth_server.config())
    nxuskit.auth_set_credential("openai", SECRET)
    nxuskit.auth_resolve("openai")
    start = nxuskit.auth_login_start("acme")
    assert start.authorization_url is not None
    callback = browser.authorize(start.authorization_url)
    assert browser.callback(callback).status_code == 200
    assert nxuskit.auth_login_wait(start.login_id, timeout=30) is not None
    record = json.loads(sandbox.store_file.read_text())["credentials"]["acme"]
    access, refresh = record["secret"], record["refresh_token"]
    assert nxuskit.auth_resolve("acme").secret == access
    nxuskit.auth_report_invalid("acme", access)  # the daemon refreshes: new tokens
    rotated = json.loads(sandbox.store_file.read_text())["credentials"]["acme"]
    nxuskit.auth_logout("acme")
    nxuskit.auth_remove_credential("openai")
    nxuskit.store_migrate("file")  # the store in use: nothing moves, still recorded
    methods = [(e["method"], e["provider"], e["result"]) for e in entries(sandbox)]
    assert methods == [
        (protocol.SET_CREDENTIAL, "openai", "ok"),
        (protocol.RESOLVE, "openai", "ok"),
        (protocol.LOGIN_START, "acme", "ok"),
        (audit.LOGIN, "acme", "ok"),
        (protocol.RESOLVE, "acme", "ok"),
        (protocol.REPORT_INVALID, "acme", "ok"),
        (protocol.LOGOUT, "acme", "ok"),
        (protocol.REMOVE_CREDENTIAL, "openai", "ok"),
        (protocol.STORE_MIGRATE, None, "ok"),
    ]
    login = next(e for e in entries(sandbox) if e["method"] == audit.LOGIN)
    assert (login["pid"], login["source"]) == (os.getpid(), "oauth")  # who started it
    text = log_file(sandbox).read_text()
    code = callback.split("code=")[1].split("&")[0]
    for secret in (SECRET, access, refresh, rotated["secret"], rotated["refresh_token"], code):
        assert secret not in text


def test_the_cli_shows_the_trail_newest_last_in_80_columns(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    nxuskit.auth_set_credential("openai", SECRET)
    assert resolve_elsewhere(sandbox, "openai").returncode == 0
    assert resolve_elsewhere(sandbox, "groq").returncode != 0
    shown = run_cli(sandbox, "audit")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].split() == ["Time", "Method", "Provider", "Result", "Process"]
    assert [line.split()[2:5] for line in lines[2:]] == [
        ["set", "openai", "ok"],
        ["resolve", "openai", "ok"],
        ["resolve", "groq", "not_authenticated"],
    ]
    assert max(len(line) for line in lines) <= 80
    assert SECRET not in shown.stdout + shown.stderr
    only = run_cli(sandbox, "audit", "--provider", "gpt", "--since", "1h", "--json")
    assert only.returncode == 0, only.stderr
    trail = json.loads(only.stdout)
    assert [e["method"] for e in trail["entries"]] == [protocol.SET_CREDENTIAL, protocol.RESOLVE]
    assert (trail["more"], trail["problem"]) == (False, None)
    later = run_cli(sandbox, "audit", "--since", "2999-01-01")
    assert (later.returncode, later.stdout) == (0, "")
    newest = json.loads(run_cli(sandbox, "audit", "--limit", "1", "--json").stdout)
    assert [e["provider"] for e in newest["entries"]] == ["groq"]
    assert newest["more"] is True


def test_without_a_daemon_the_cli_reads_the_file_and_starts_none(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    nxuskit.auth_set_credential("openai", SECRET)
    assert resolve_elsewhere(sandbox, "openai").returncode == 0
    entries(sandbox)
    daemon.stop()
    reset_default()
    shown = run_cli(sandbox, "audit", "--json", env={"NXUSKIT_AUTOSTART": "1"})
    assert shown.returncode == 0, shown.stderr
    assert "nxuskitd is not running" in shown.stderr
    assert str(log_file(sandbox)) in shown.stderr
    trail = json.loads(shown.stdout)
    assert [e["method"] for e in trail["entries"]] == [protocol.SET_CREDENTIAL, protocol.RESOLVE]
    assert not sandbox.socket_path.exists()  # it did not start one


def test_last_used_is_in_status_and_survives_a_restart(
    sandbox: Sandbox, daemon: Daemon, spawn: Any
) -> None:
    nxuskit.auth_set_credential("openai", SECRET)
    nxuskit.auth_set_credential("groq", SECRET)
    assert resolve_elsewhere(sandbox, "openai").returncode == 0
    used = next(e["time"] for e in entries(sandbox) if e["method"] == protocol.RESOLVE)

    def last_used() -> dict[str, Any]:
        shown = run_cli(sandbox, "provider", "status", "--json")
        assert shown.returncode == 0, shown.stderr
        return {entry["provider"]: entry["last_used"] for entry in json.loads(shown.stdout)}

    before = last_used()
    assert before["openai"] == pytest.approx(used, abs=0.01)
    assert before["groq"] is None  # stored, never resolved
    assert before["ollama"] is None
    with Client(str(sandbox.socket_path)) as client:
        wire = client.call(protocol.STATUS, {"provider": "openai"})
    assert wire["providers"][0]["last_used"] == pytest.approx(used, abs=0.01)
    daemon.stop()
    reset_default()
    spawn()
    assert last_used()["openai"] == pytest.approx(used, abs=0.01)


def test_an_idle_exit_writes_what_was_queued(sandbox: Sandbox, spawn: Any) -> None:
    running = spawn("--idle-exit", "1")
    nxuskit.auth_set_credential("openai", SECRET)
    assert resolve_elsewhere(sandbox, "openai").returncode == 0
    reset_default()
    assert wait_until(lambda: running.process.poll() is not None, timeout=20)
    assert "no clients for 1s: exiting" in running.log()
    lines = log_file(sandbox).read_text().splitlines()
    assert [json.loads(line)["method"] for line in lines] == [
        protocol.SET_CREDENTIAL,
        protocol.RESOLVE,
    ]


def test_a_clean_stop_writes_what_was_queued(sandbox: Sandbox, daemon: Daemon) -> None:
    nxuskit.auth_set_credential("openai", SECRET)
    for _ in range(20):
        nxuskit.auth_resolve("openai")
    assert daemon.stop() == 0  # at once: the last entries are still queued for the writer
    lines = log_file(sandbox).read_text().splitlines()
    assert len(lines) == 21
    assert json.loads(lines[-1])["method"] == protocol.RESOLVE
