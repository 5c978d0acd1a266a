"""The daemon's cache never serves what the store no longer holds.

Two real daemons share one file store (documented as supported); the store file is
chmodded and moved under a running daemon; a real Secret Service is hung with SIGSTOP
while a write is under way. Each time, the next answer is what the store says now.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

import nxuskit
from nxuskit.client import reset_default
from nxuskit.errors import NotAuthenticated, PermissionDenied, StoreUnavailable
from tests.conftest import Daemon, Sandbox, run_cli, socket_answers
from tests.integration.conftest import wait_until
from tests.integration.secret_service import SecretService
from tests.integration.wire import Wire

Spawn = Callable[..., Daemon]
OLD, NEW = "sk-old-3f0a91c2d7", "sk-new-88b1e4a06c"


@pytest.fixture(autouse=True)
def _ask_the_daemon_every_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests are about the daemon's cache: this process's own cache is off, so each
    resolve asks the daemon. Changes made behind the daemon's back reach a caching client
    within the daemon's watch (tests/integration/test_client_cache.py)."""
    monkeypatch.setenv("NXUSKIT_CLIENT_CACHE", "0")


@pytest.fixture
def second(spawn: Spawn, sandbox: Sandbox) -> Path:
    """The socket of daemon B, started beside A on the same file store."""
    path = sandbox.root / "b" / "nxuskitd.sock"
    b = spawn("--socket", str(path), wait=False, name="b.log")
    assert wait_until(lambda: socket_answers(path), timeout=15), b.log()
    return path


def through(path: Path, method: str, **params: str) -> dict[str, object]:
    with Wire(path) as wire:
        answer: dict[str, object] = wire.request(method, params)
    return answer


def test_a_key_set_through_another_daemon_is_served_at_once(
    daemon: Daemon, sandbox: Sandbox, second: Path
) -> None:
    nxuskit.auth_set_credential("openai", OLD)
    assert nxuskit.auth_resolve("openai").secret == OLD  # A has it in its cache now
    assert nxuskit.auth_status("claude").status == "not_authenticated"  # names cached too
    done = run_cli(sandbox, "provider", "set", "openai", input=NEW + "\n",
                   env={"NXUSKIT_SOCKET": str(second)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "result" in through(second, "auth.set_credential", provider="claude", secret=NEW)
    assert nxuskit.auth_resolve("openai").secret == NEW
    assert nxuskit.auth_status("claude").status == "authenticated"
    assert "result" in through(second, "auth.remove_credential", provider="openai")
    with pytest.raises(NotAuthenticated):
        nxuskit.auth_resolve("openai")


def test_a_store_file_made_readable_to_others_stops_resolves_like_status(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    nxuskit.auth_set_credential("openai", OLD)
    assert nxuskit.auth_resolve("openai").secret == OLD
    sandbox.store_file.chmod(0o644)
    with pytest.raises(PermissionDenied, match="readable by other users"):
        nxuskit.auth_resolve("openai")
    status = run_cli(sandbox, "provider", "status", "openai")
    assert status.returncode == 6, status.stderr
    sandbox.store_file.chmod(0o600)
    assert nxuskit.auth_resolve("openai").secret == OLD


def test_a_store_file_moved_away_is_no_longer_served(daemon: Daemon, sandbox: Sandbox) -> None:
    nxuskit.auth_set_credential("openai", OLD)
    assert nxuskit.auth_resolve("openai").secret == OLD
    elsewhere = sandbox.root / "moved.json"
    sandbox.store_file.rename(elsewhere)
    with pytest.raises(NotAuthenticated):
        nxuskit.auth_resolve("openai")
    status = json.loads(run_cli(sandbox, "provider", "status", "openai", "--json").stdout)
    assert status[0]["status"] == "not_authenticated"
    elsewhere.rename(sandbox.store_file)
    assert nxuskit.auth_resolve("openai").secret == OLD


def test_a_set_through_the_same_daemon_is_still_served(daemon: Daemon, sandbox: Sandbox) -> None:
    """The fingerprint moves with the daemon's own writes too: what it wrote is read back."""
    nxuskit.auth_set_credential("openai", OLD)
    nxuskit.auth_set_credential("openai", NEW)
    assert nxuskit.auth_resolve("openai").secret == NEW
    reads = nxuskit.daemon_status()["cache"]["store_reads"]
    assert nxuskit.auth_resolve("openai").secret == NEW
    assert nxuskit.daemon_status()["cache"]["store_reads"] == reads  # cached while unchanged


# -- a keyring write that finishes after its caller was told it timed out -------------


def keyring_daemon(spawn: Spawn, sandbox: Sandbox, ss: SecretService) -> Daemon:
    return spawn("--store", "keyring", "--store-timeout", "1", env={**sandbox.env, **ss.env})


def late_write(daemon: Daemon, ss: SecretService, write: Callable[[], object]) -> None:
    """Run ``write`` while the keyring daemon is stopped (it times out), then let the
    keyring go on and wait until the abandoned write has finished."""
    ss.signal_keyring(signal.SIGSTOP)
    try:
        with pytest.raises(StoreUnavailable, match="did not answer within 1s"):
            write()
    finally:
        ss.signal_keyring(signal.SIGCONT)
    assert wait_until(lambda: "that had timed out finished later" in daemon.log()), daemon.log()


def test_a_timed_out_keyring_set_that_finishes_later_is_served(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    daemon = keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", OLD)
    assert nxuskit.auth_resolve("openai").secret == OLD  # cached
    late_write(daemon, secret_service, lambda: nxuskit.auth_set_credential("openai", NEW))
    assert json.loads(secret_service.items()["openai"])["record"]["secret"] == NEW
    reset_default()
    assert nxuskit.auth_resolve("openai").secret == NEW
    assert NEW not in daemon.log()


def test_a_timed_out_keyring_remove_that_finishes_later_is_served(
    spawn: Spawn, sandbox: Sandbox, secret_service: SecretService
) -> None:
    daemon = keyring_daemon(spawn, sandbox, secret_service)
    nxuskit.auth_set_credential("openai", OLD)
    assert nxuskit.auth_resolve("openai").secret == OLD  # cached
    late_write(daemon, secret_service, lambda: nxuskit.auth_remove_credential("openai"))
    assert "openai" not in secret_service.items()
    reset_default()
    with pytest.raises(NotAuthenticated):
        nxuskit.auth_resolve("openai")
    assert nxuskit.auth_status("openai").status == "not_authenticated"
