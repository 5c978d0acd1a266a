"""The OS keyring store against a real Secret Service (gnome-keyring on a private bus).

Everything is checked from outside nxuskit: secretstorage over the test's own D-Bus
connection, ``secret-tool``, ``dbus-monitor``, and the files on disk.
"""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import nxuskit
from nxuskit.client import reset_default
from nxuskit.errors import StoreUnavailable
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.secret_service import SecretService

KEY = "sk-keyring-7c1e9a0d44b2f3"
Spawn = Callable[..., Daemon]


def keyring_daemon(spawn: Spawn, sandbox: Sandbox, ss: SecretService, *args: str) -> Daemon:
    """nxuskitd with ``--store auto`` (unless ``args`` say otherwise) on the private bus."""
    return spawn("--store", "auto", "--store-timeout", "2", *args, env={**sandbox.env, **ss.env})


def files_holding(root: Path, needle: str) -> list[Path]:
    found = []
    for path in root.rglob("*"):
        if path.is_file() and not path.is_symlink():
            try:
                if needle.encode() in path.read_bytes():
                    found.append(path)
            except OSError:
                pass
    return found


def resolve_error(provider: str = "openai") -> tuple[StoreUnavailable, float]:
    reset_default()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as caught:
        nxuskit.auth_resolve(provider)
    return caught.value, time.monotonic() - started


def test_a_key_set_through_the_cli_is_in_the_secret_service_and_in_no_file(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    daemon = keyring_daemon(spawn, sandbox, secret_service)
    done = run_cli(sandbox, "provider", "set", "openai", input=KEY + "\n")
    assert done.returncode == 0, done.stderr
    stored = json.loads(secret_service.items()["openai"])
    assert stored["record"]["secret"] == KEY
    assert json.loads(secret_service.secret_tool("openai") or "")["record"]["secret"] == KEY
    assert json.loads(secret_service.items()[":index"])["providers"] == ["openai"]
    assert not sandbox.store_file.exists()
    assert files_holding(sandbox.root, KEY) == []
    assert files_holding(secret_service.root, KEY) == []  # the keyring file is encrypted
    assert KEY not in daemon.log()


def test_auto_picks_the_keyring_and_says_so_everywhere(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    daemon = keyring_daemon(spawn, sandbox, secret_service)
    assert "store: Secret Service (keyring), auto:" in daemon.log()
    status = run_cli(sandbox, "provider", "status")
    assert status.stdout.rstrip().splitlines()[-1] == "store: Secret Service (keyring)"
    info = json.loads(run_cli(sandbox, "daemon", "status", "--json").stdout)
    assert info["store"]["kind"] == "keyring"
    assert info["store"]["description"] == "Secret Service (keyring)"
    listed = json.loads(run_cli(sandbox, "provider", "status", "--json").stdout)
    assert isinstance(listed, list)


def test_a_credential_survives_a_daemon_restart(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    first = keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("claude", KEY)
    assert first.stop() == 0
    keyring_daemon(spawn, sandbox, secret_service)
    reset_default()
    resolution = nxuskit.auth_resolve("claude")
    assert (resolution.secret, resolution.source) == (KEY, "store")
    assert nxuskit.auth_status("claude").status == "authenticated"


def test_a_long_record_is_chunked_in_the_secret_service(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    keyring_daemon(spawn, sandbox, secret_service)
    long_key = "sk-" + "L" * 9000
    nxuskit.auth_set_credential("openai", long_key)
    items = secret_service.items()
    assert json.loads(items["openai"])["chunks"] == len([u for u in items if ":" in u[1:]])
    assert all(len(value) <= 1100 for value in items.values())
    nxuskit.daemon_lock()
    assert nxuskit.auth_resolve("openai").secret == long_key


def test_without_dbus_auto_falls_back_to_the_file_store_and_says_why(
    spawn: Spawn, sandbox: Sandbox
) -> None:
    daemon = spawn("--store", "auto")  # the sandbox has no DBUS_SESSION_BUS_ADDRESS
    assert "store: file" in daemon.log()
    assert "no OS keyring found: Secret Service:" in daemon.log()
    status = run_cli(sandbox, "provider", "status")
    lines = status.stdout.rstrip().splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith("store: "))
    footer = " ".join(line.strip() for line in lines[start:])  # wrapped to 80 columns
    assert footer.startswith("store: file, no OS keyring found: Secret Service:")
    assert "DBUS_SESSION_BUS_ADDRESS" in footer
    info = json.loads(run_cli(sandbox, "daemon", "status", "--json").stdout)
    assert info["store"]["kind"] == "file"


def test_a_headless_file_store_with_credentials_advises_no_migration(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    first = spawn("--store", "file")
    nxuskit.auth_set_credential("openai", KEY)
    first.stop()
    headless = spawn("--store", "auto")  # the sandbox has no DBUS_SESSION_BUS_ADDRESS
    reset_default()
    done = run_cli(sandbox, "store", "status")
    assert done.returncode == 0, done.stderr
    shown = " ".join(done.stdout.split())  # the reason wraps at word boundaries
    assert "migrate" not in shown
    assert "no OS keyring to move them to: Secret Service:" in shown
    assert "DBUS_SESSION_BUS_ADDRESS" in shown
    footer = run_cli(sandbox, "provider", "status").stdout
    assert "migrate" not in footer
    headless.stop()
    keyring_daemon(spawn, sandbox, secret_service)  # where a keyring works, it is advised
    done = run_cli(sandbox, "store", "status")
    assert "`nxuskit-cli store migrate --to keyring`" in " ".join(done.stdout.split())
    assert run_cli(sandbox, "store", "migrate", "--to", "keyring").returncode == 0


def test_store_keyring_without_a_keyring_refuses_to_start(sandbox: Sandbox) -> None:
    gone = {**sandbox.env, "DBUS_SESSION_BUS_ADDRESS": f"unix:path={sandbox.root}/no-bus"}
    done = subprocess.run(
        [sys.executable, "-m", "nxuskitd", "--store", "keyring"],
        env=gone, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "cannot start: --store keyring: no usable OS keyring: Secret Service:" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def silent_bus(sandbox: Sandbox) -> Iterator[str]:
    """A socket that accepts D-Bus connections and never says a word (a hung bus)."""
    path = sandbox.root / "hung-bus"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(64)
    try:
        yield f"unix:path={path}"
    finally:
        listener.close()


def test_a_hung_dbus_does_not_hang_start_up(
    spawn: Spawn, sandbox: Sandbox, silent_bus: str
) -> None:
    started = time.monotonic()
    daemon = spawn("--store", "auto", "--store-timeout", "1.5",
                   env={**sandbox.env, "DBUS_SESSION_BUS_ADDRESS": silent_bus})  # fmt: skip
    assert time.monotonic() - started < 10
    assert "store: file " in daemon.log()
    assert "no OS keyring found: the OS keyring did not answer within 1.5s" in daemon.log()
    nxuskit.auth_set_credential("openai", KEY)
    assert nxuskit.auth_resolve("openai").secret == KEY


def test_a_killed_keyring_is_store_unavailable_and_recovers(
    spawn: Spawn,
    sandbox: Sandbox,
    secret_service: SecretService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", KEY)
    nxuskit.daemon_lock()
    secret_service.kill_keyring()
    error, elapsed = resolve_error()
    assert elapsed < 2 + 1.5
    assert "Secret Service" in str(error)
    assert KEY not in str(error)
    done = run_cli(sandbox, "provider", "status", "openai")
    assert done.returncode == 5
    assert done.stderr.count("\n") == 1
    assert "Secret Service" in done.stderr
    monkeypatch.setenv("GROQ_API_KEY", "gsk-from-env")
    assert nxuskit.auth_resolve("groq").source == "env"
    assert nxuskit.daemon_status()["store"]["kind"] == "keyring"  # the daemon still serves
    secret_service.start_keyring()
    assert nxuskit.auth_resolve("openai").secret == KEY  # no daemon restart


def test_a_hung_keyring_costs_only_the_store_and_recovers(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", KEY)
    nxuskit.auth_set_credential("claude", "sk-claude-cached")
    nxuskit.daemon_lock()
    nxuskit.auth_resolve("claude")  # cached from here on
    secret_service.signal_keyring(signal.SIGSTOP)
    try:
        error, elapsed = resolve_error()
        assert 1.5 < elapsed < 2 + 1.5
        assert "did not answer within 2s" in str(error)
        assert nxuskit.auth_resolve("claude").secret == "sk-claude-cached"
        assert run_cli(sandbox, "provider", "list").returncode == 0
    finally:
        secret_service.signal_keyring(signal.SIGCONT)
    assert nxuskit.auth_resolve("openai").secret == KEY


def test_a_locked_collection_is_a_clear_error(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", KEY)
    assert nxuskit.auth_resolve("openai").secret == KEY  # served from the session
    secret_service.lock()
    assert nxuskit.auth_resolve("openai").secret == KEY  # still: the daemon holds it
    done = run_cli(sandbox, "daemon", "lock")
    assert done.returncode == 0, done.stderr
    error, _ = resolve_error()
    assert "is locked" in str(error)
    assert "unlock it" in str(error)
    done = run_cli(sandbox, "provider", "status", "openai")
    assert done.returncode == 5
    assert "is locked" in done.stderr
    secret_service.unlock()
    assert nxuskit.auth_resolve("openai").secret == KEY


CLIENT = """
import os, sys, time
import nxuskit
go = sys.argv[1]
open(f"{go}.ready.{os.getpid()}", "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
print(nxuskit.auth_resolve("openai").secret)
"""


def start_monitor(ss: SecretService, log: Path) -> subprocess.Popen[bytes]:
    """dbus-monitor printing every GetSecret(s) call on the private bus into ``log``."""
    with open(log, "wb") as out:
        monitor = subprocess.Popen(
            ["dbus-monitor", "--address", ss.address,
             "type='method_call',interface='org.freedesktop.Secret.Item',member='GetSecret'",
             "type='method_call',interface='org.freedesktop.Secret.Service',"
             "member='GetSecrets'"],
            stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    deadline = time.monotonic() + 10
    while b"NameLost" not in log.read_bytes():  # it has become a monitor
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.02)
    return monitor


def test_sixteen_concurrent_clients_cost_one_keyring_read(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", KEY)
    nxuskit.daemon_lock()
    reads_before = nxuskit.daemon_status()["cache"]["store_reads"]
    log = sandbox.root / "monitor.log"
    monitor = start_monitor(secret_service, log)
    go = sandbox.root / "go"
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", CLIENT, str(go)],
            env=sandbox.env,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(16)
    ]
    try:
        deadline = time.monotonic() + 30
        while len(list(sandbox.root.glob("go.ready.*"))) < 16:  # all 16 are up and polling
            assert time.monotonic() < deadline
            time.sleep(0.02)
        go.touch()
        outputs = [client.communicate(timeout=30)[0].strip() for client in clients]
    finally:
        for client in clients:
            client.kill()
    time.sleep(0.3)
    monitor.terminate()
    monitor.wait(10)
    assert outputs == [KEY] * 16
    calls = [line for line in log.read_text().splitlines() if line.startswith("method call")]
    assert len(calls) == 1, calls
    assert nxuskit.daemon_status()["cache"]["store_reads"] - reads_before == 1


def test_the_idle_timeout_forgets_and_rereads(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    keyring_daemon(spawn, sandbox, secret_service, "--cache-idle", "1")
    nxuskit.auth_set_credential("openai", KEY)
    with secret_service.collection() as collection:  # changed behind the daemon's back
        item = next(iter(collection.search_items({"service": "nxuskit", "username": "openai"})))
        item.set_secret(item.get_secret().replace(KEY.encode(), b"sk-changed-outside"))
    assert nxuskit.auth_resolve("openai").secret == KEY  # the session's copy
    time.sleep(1.6)
    assert nxuskit.auth_resolve("openai").secret == "sk-changed-outside"
    assert nxuskit.daemon_status()["cache"]["idle_timeout"] == 1.0


def test_migrate_moves_credentials_both_ways(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    daemon = spawn("--store", "file", env={**sandbox.env, **secret_service.env})
    nxuskit.auth_set_credential("openai", KEY)
    nxuskit.auth_set_credential("claude", "sk-claude-2")
    done = run_cli(sandbox, "store", "migrate", "--to", "keyring")
    assert done.returncode == 0, done.stderr
    assert "Moved 2 credentials from file" in done.stdout
    assert "to Secret Service (keyring): claude, openai." in done.stdout
    assert "nxuskitd now uses Secret Service (keyring)." in done.stdout
    assert json.loads(secret_service.items()["openai"])["record"]["secret"] == KEY
    assert KEY not in sandbox.store_file.read_text()
    footer = run_cli(sandbox, "provider", "status").stdout.rstrip().splitlines()[-1]
    assert footer == "store: Secret Service (keyring)"
    assert nxuskit.auth_resolve("claude").secret == "sk-claude-2"
    daemon.stop()
    keyring_daemon(spawn, sandbox, secret_service)  # auto remembers the migration
    reset_default()
    assert nxuskit.store_info().kind == "keyring"
    assert nxuskit.auth_resolve("openai").secret == KEY
    back = nxuskit.store_migrate("file")
    assert back.moved == ["claude", "openai"]
    assert "openai" not in secret_service.items()
    assert ":index" not in secret_service.items()
    assert KEY in sandbox.store_file.read_text()
    assert nxuskit.auth_resolve("openai").secret == KEY
