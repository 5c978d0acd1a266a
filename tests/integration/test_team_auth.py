"""The daemon's token for the team store: AppRole, renewal before expiry, a revoked token
replaced, and what happens when OpenBao is down (a real ``bao server -dev``; issue 13)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from nxuskit import auth_resolve, daemon_lock
from nxuskit.errors import NotAuthenticated, StoreUnavailable
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.openbao import (
    READ_POLICY,
    WRITE_POLICY,
    Bao,
    Hammer,
    audited,
    free_port,
    never_shown,
    start_dev_server,
    team_table,
)

TEAM_KEY = "sk-team-key-5b0d2c77"
PERSONAL_KEY = "sk-personal-key-e41a9f03"


@pytest.fixture
def openbao(sandbox: Sandbox) -> Iterator[Bao]:
    (sandbox.root / "bao").mkdir()
    server = start_dev_server(sandbox.root / "bao", audit=True)
    try:
        server.policy("nxuskit-read", READ_POLICY)
        server.put("secret/nxuskit/openai", api_key=TEAM_KEY)
        server.put("secret/nxuskit/groq", api_key=TEAM_KEY + "-groq")
        yield server
    finally:
        server.kill()


def secret_file(box: Sandbox, secret_id: str, mode: int = 0o600) -> Path:
    path = box.root / "approle-secret-id"
    path.write_text(secret_id + "\n")
    path.chmod(mode)
    return path


def test_approle_logs_in_with_a_private_secret_id_file_or_a_stored_one(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    role_id, secret_id = openbao.approle("ci", "token_policies=nxuskit-read", "token_ttl=1h")
    path = secret_file(sandbox, secret_id)
    sandbox.write_config(
        team_table(openbao.address, auth="approle", role_id=role_id, secret_id_file=str(path))
    )
    assert auth_resolve("openai").secret == TEAM_KEY
    shown = run_cli(sandbox, "team", "status", "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert (info["auth"], info["authenticated"]) == ("approle", True)
    assert "nxuskit-read" in info["policies"]

    path.chmod(0o644)  # readable by others: refused, with the fix
    daemon_lock()  # forgets the token: the next request logs in again
    with pytest.raises(NotAuthenticated) as refused:
        auth_resolve("openai")
    assert "not authenticated to the team store at " + openbao.address in refused.value.message
    assert f"run `chmod 600 {path}`" in refused.value.message

    # without secret_id_file, `team login` keeps the secret_id in the personal store
    sandbox.write_config(team_table(openbao.address, auth="approle", role_id=role_id))
    done = run_cli(sandbox, "team", "login", input=secret_id)
    assert done.returncode == 0, done.stderr
    assert auth_resolve("groq").secret == TEAM_KEY + "-groq"
    stored = json.loads(sandbox.store_file.read_text())
    assert ":team-secret-id" in json.dumps(stored)
    never_shown([secret_id, role_id, TEAM_KEY], daemon.log(), shown.stdout, done.stdout)


def test_a_short_token_ttl_is_renewed_without_any_request_failing(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    audit = openbao.audit_log
    sandbox.write_config(team_table(openbao.address, cache_ttl=0))  # every resolve asks
    token = openbao.create_token("-policy=nxuskit-read", "-ttl=8s")
    assert run_cli(sandbox, "team", "login", input=token).returncode == 0
    with Hammer(clients=8) as hammer:
        # the load runs until the token has been renewed twice (about 11 s)
        renewed = wait_until(lambda: audited(audit, "auth/token/renew-self") >= 2, 40, 0.5)
    assert hammer.failures == []
    assert renewed, daemon.log()[-2000:]
    renewals = audited(audit, "auth/token/renew-self")
    reads = audited(audit, "secret/data/nxuskit/openai") + audited(
        audit, "secret/data/nxuskit/groq"
    )
    assert reads > 10 * renewals  # renewals follow the TTL, not the requests
    assert renewals <= 3
    info = json.loads(run_cli(sandbox, "team", "status", "--json").stdout)
    assert info["authenticated"] is True
    assert 0 < info["token_ttl"] <= 8
    never_shown([token, TEAM_KEY], daemon.log())


def test_a_revoked_token_is_replaced_by_one_approle_login(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    audit = openbao.audit_log
    role_id, secret_id = openbao.approle("ci", "token_policies=nxuskit-read", "token_ttl=1h")
    path = secret_file(sandbox, secret_id)
    sandbox.write_config(
        team_table(openbao.address, auth="approle", role_id=role_id, secret_id_file=str(path),
                   cache_ttl=0)
    )  # fmt: skip
    assert auth_resolve("openai").secret == TEAM_KEY
    assert audited(audit, "auth/approle/login") == 1
    with Hammer(clients=8) as hammer:
        assert wait_until(lambda: hammer.resolves > 50, timeout=30)
        assert openbao.revoke_logins() == 1
        done = hammer.resolves
        assert wait_until(lambda: hammer.resolves > done + 50, timeout=30)
    assert hammer.failures == []
    assert audited(audit, "auth/approle/login") == 2  # one login, however many requests
    assert "authenticating again" in daemon.log()
    never_shown([secret_id, TEAM_KEY], daemon.log())


def test_a_team_write_after_its_token_was_revoked_logs_in_again_and_is_written(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    openbao.policy("nxuskit-write", WRITE_POLICY)
    role_id, secret_id = openbao.approle("ci", "token_policies=nxuskit-write", "token_ttl=1h")
    path = secret_file(sandbox, secret_id)
    sandbox.write_config(
        team_table(openbao.address, auth="approle", role_id=role_id, secret_id_file=str(path))
    )
    assert auth_resolve("openai").secret == TEAM_KEY  # logged in once
    assert openbao.revoke_logins() == 1
    written = run_cli(sandbox, "provider", "set", "--team", "openai", input=TEAM_KEY + "-new")
    assert written.returncode == 0, written.stderr
    assert openbao.json("kv", "get", "secret/nxuskit/openai")["data"]["data"] == {
        "api_key": TEAM_KEY + "-new"
    }
    assert audited(openbao.audit_log, "auth/approle/login") == 2
    assert "authenticating again" in daemon.log()
    never_shown([secret_id, TEAM_KEY], daemon.log(), written.stdout, written.stderr)


def test_openbao_down_when_the_daemon_starts_leaves_personal_keys_served(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    down = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    path = secret_file(sandbox, "secret-id-0c1d2e3f")
    sandbox.write_config(
        team_table(down, auth="approle", role_id="role-1", secret_id_file=str(path))
    )
    daemon = spawn()
    assert wait_until(lambda: "team: the team store does not answer" in daemon.log())
    assert "connection refused" in daemon.log()
    run_cli(sandbox, "provider", "set", "openai", input=PERSONAL_KEY)
    resolved = auth_resolve("openai")
    assert (resolved.secret, resolved.source) == (PERSONAL_KEY, "store")
    with pytest.raises(StoreUnavailable, match="the team store does not answer"):
        auth_resolve("groq")
    table = run_cli(sandbox, "provider", "status")
    assert table.returncode == 0
    footer = " ".join(table.stdout.split())
    assert f"team: {down} (approle auth): not reachable" in footer
    status = run_cli(sandbox, "team", "status")
    assert status.returncode == 1
    assert "connection refused" in " ".join(status.stdout.split())


def test_cached_team_keys_are_served_while_openbao_is_down(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    sandbox.write_config(team_table(openbao.address, cache_ttl=1, max_stale=600))
    token = openbao.create_token("-policy=nxuskit-read")
    assert run_cli(sandbox, "team", "login", input=token).returncode == 0
    assert auth_resolve("openai").secret == TEAM_KEY
    openbao.kill()

    def stale() -> bool:
        shown = run_cli(sandbox, "provider", "status", "openai", "--json")
        return bool(json.loads(shown.stdout)[0]["team"]["stale"])

    assert wait_until(stale, timeout=10)
    resolved = auth_resolve("openai")
    assert (resolved.secret, resolved.source) == (TEAM_KEY, "team")
    footer = " ".join(run_cli(sandbox, "provider", "status").stdout.split())
    assert "not reachable" in footer
    assert "cached team keys are served up to 600 s past their 1 s TTL" in footer
    with pytest.raises(StoreUnavailable, match="no key of groq read from it is cached"):
        auth_resolve("groq")
    assert run_cli(sandbox, "team", "status").returncode == 1
    daemon_lock()  # forgets the cached keys: nothing to serve until the store is back
    with pytest.raises(StoreUnavailable):
        auth_resolve("openai")
    never_shown([token, TEAM_KEY], daemon.log())
    assert os.stat(sandbox.store_file).st_mode & 0o077 == 0
