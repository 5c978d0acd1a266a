"""The team store: provider keys from a real OpenBao (``bao server -dev`` on loopback)
resolved through a real nxuskitd, behind the personal store (issue 13)."""

from __future__ import annotations

import json
import stat
from collections.abc import Iterator

import pytest

from nxuskit import auth_resolve, daemon_lock
from nxuskit.client import Client
from nxuskit.errors import NotAuthenticated, PermissionDenied
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.openbao import (
    READ_POLICY,
    WRITE_POLICY,
    Bao,
    free_port,
    never_shown,
    start_dev_server,
    team_table,
)

TEAM_KEY = "sk-team-key-1f4e8a90"
PERSONAL_KEY = "sk-personal-key-77c2d1e5"


@pytest.fixture
def openbao(sandbox: Sandbox) -> Iterator[Bao]:
    """A real OpenBao dev server, with the read policy of docs/team.md."""
    (sandbox.root / "bao").mkdir()
    server = start_dev_server(sandbox.root / "bao")
    try:
        server.policy("nxuskit-read", READ_POLICY)
        server.policy("nxuskit-write", WRITE_POLICY)
        yield server
    finally:
        server.kill()


def logged_in(box: Sandbox, server: Bao, policy: str = "nxuskit-read", **fields: object) -> str:
    """config.toml's [team] for ``server``, and a token with ``policy`` given to the
    daemon with `team login` on stdin; the token."""
    box.write_config(team_table(server.address, **fields))
    token = server.create_token(f"-policy={policy}", "-ttl=1h")
    done = run_cli(box, "team", "login", input=token + "\n")
    assert done.returncode == 0, done.stderr
    assert "Logged in to the team store at " + server.address in done.stdout
    never_shown([token], done.stdout, done.stderr)
    return token


def status_of(box: Sandbox, provider: str) -> dict[str, object]:
    shown = run_cli(box, "provider", "status", provider, "--json")
    (entry,) = json.loads(shown.stdout)
    return entry  # type: ignore[no-any-return]


def test_a_team_key_resolves_with_source_team_and_a_personal_key_overrides_it(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    openbao.put("secret/nxuskit/openai", api_key=TEAM_KEY)
    token = logged_in(sandbox, openbao)

    resolved = auth_resolve("openai")
    assert (resolved.secret, resolved.source) == (TEAM_KEY, "team")
    entry = status_of(sandbox, "openai")
    assert (entry["status"], entry["source"]) == ("authenticated", "team")
    assert entry["team"] == {"address": openbao.address, "path": "secret/nxuskit/openai",
                             "field": "api_key", "version": 1, "stale": False}  # fmt: skip
    table = run_cli(sandbox, "provider", "status")
    assert table.stdout.splitlines()[0].split() == [
        "Provider",
        "Status",
        "Source",
        "Auth",
        "Methods",
    ]
    assert ["openai", "Authenticated", "team", "api_key"] in [
        r.split() for r in table.stdout.splitlines()
    ]
    assert f"team: {openbao.address} (token auth): reachable, authenticated" in table.stdout
    # a provider the team store has no key for still says how to get one
    with pytest.raises(NotAuthenticated, match="the team store has none at secret/nxuskit/groq"):
        auth_resolve("groq")

    stored = run_cli(sandbox, "provider", "set", "openai", input=PERSONAL_KEY)
    assert stored.returncode == 0, stored.stderr
    resolved = auth_resolve("openai")
    assert (resolved.secret, resolved.source) == (PERSONAL_KEY, "store")
    assert status_of(sandbox, "openai")["source"] == "store"

    run_cli(sandbox, "provider", "remove", "openai")
    assert auth_resolve("openai").source == "team"
    never_shown([token, TEAM_KEY], daemon.log(), table.stdout, sandbox.config_file.read_text())


def test_a_rotated_team_key_is_seen_within_the_ttl_and_daemon_lock_forgets_it(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    openbao.put("secret/nxuskit/groq", api_key=TEAM_KEY)
    logged_in(sandbox, openbao, cache_ttl=1)
    assert auth_resolve("groq").secret == TEAM_KEY
    openbao.put("secret/nxuskit/groq", api_key=TEAM_KEY + "-v2")
    assert wait_until(lambda: auth_resolve("groq").secret == TEAM_KEY + "-v2", timeout=5)
    assert status_of(sandbox, "groq")["team"]["version"] == 2  # type: ignore[index]

    # with a long TTL the cached key is served until `daemon lock` forgets it
    sandbox.write_config(team_table(openbao.address, cache_ttl=3600))
    assert auth_resolve("groq").secret == TEAM_KEY + "-v2"
    openbao.put("secret/nxuskit/groq", api_key=TEAM_KEY + "-v3")
    assert auth_resolve("groq").secret != TEAM_KEY + "-v3"
    assert daemon_lock() >= 1
    assert auth_resolve("groq").secret == TEAM_KEY + "-v3"  # read again, token re-read too


def test_a_policy_denial_is_a_clear_error(sandbox: Sandbox, daemon: Daemon, openbao: Bao) -> None:
    openbao.policy("openai-only", 'path "secret/data/nxuskit/openai" { capabilities = ["read"] }')
    openbao.put("secret/nxuskit/openai", api_key=TEAM_KEY)
    openbao.put("secret/nxuskit/groq", api_key=TEAM_KEY + "-groq")
    logged_in(sandbox, openbao, policy="openai-only")
    assert auth_resolve("openai").secret == TEAM_KEY
    with pytest.raises(PermissionDenied) as denied:
        auth_resolve("groq")
    message = denied.value.message
    assert f"the team store at {openbao.address} denied reading secret/nxuskit/groq" in message
    assert "ask its admin for read on secret/data/nxuskit/*" in message
    assert "docs/team.md" in message
    assert status_of(sandbox, "groq")["status"] == "not_authenticated"


def test_writes_go_to_the_team_path_as_a_new_version(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    openbao.put("secret/nxuskit/mistral", api_key=TEAM_KEY, base_url="https://gw.example")
    logged_in(sandbox, openbao, policy="nxuskit-write")
    written = run_cli(sandbox, "provider", "set", "--team", "mistral", input=TEAM_KEY + "-new")
    assert written.returncode == 0, written.stderr
    assert (
        "Wrote the API key for mistral to the team store: secret/nxuskit/mistral, version 2"
        in written.stdout
    )
    stored = openbao.json("kv", "get", "secret/nxuskit/mistral")["data"]
    assert stored["data"] == {"api_key": TEAM_KEY + "-new", "base_url": "https://gw.example"}
    assert auth_resolve("mistral").secret == TEAM_KEY + "-new"  # at once, not after the TTL
    assert not sandbox.store_file.exists() or "mistral" not in sandbox.store_file.read_text()

    logged_in(sandbox, openbao)  # read only: the write is refused, clearly
    refused = run_cli(sandbox, "provider", "set", "--team", "mistral", input=TEAM_KEY + "-x")
    assert refused.returncode == 6
    assert "denied writing secret/nxuskit/mistral" in refused.stderr
    never_shown([TEAM_KEY], daemon.log(), written.stdout, refused.stderr)


def test_team_login_refuses_a_token_the_store_refuses_and_logout_forgets(
    sandbox: Sandbox, daemon: Daemon, openbao: Bao
) -> None:
    openbao.put("secret/nxuskit/openai", api_key=TEAM_KEY)
    sandbox.write_config(team_table(openbao.address))
    bogus = "s.not-a-real-token-0123456789"
    refused = run_cli(sandbox, "team", "login", input=bogus)
    assert refused.returncode == 1, refused.stderr
    assert "not authenticated to the team store at " + openbao.address in refused.stderr
    assert "nothing was stored" in refused.stderr
    with pytest.raises(NotAuthenticated, match="run `nxuskit-cli team login`"):
        auth_resolve("openai")

    logged_in(sandbox, openbao)
    assert auth_resolve("openai").source == "team"
    shown = run_cli(sandbox, "team", "status", "--json")
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    assert info["authenticated"] is True
    assert info["reachable"] is True
    assert sorted(info["policies"]) == ["default", "nxuskit-read"]
    assert 3000 < info["token_ttl"] <= 3600
    out = run_cli(sandbox, "team", "logout")
    assert out.returncode == 0, out.stderr
    assert "Logged out of the team store" in out.stdout
    with pytest.raises(NotAuthenticated, match="not authenticated to the team store"):
        auth_resolve("openai")
    assert run_cli(sandbox, "team", "status").returncode == 1
    never_shown([bogus], daemon.log(), refused.stderr)


def test_tls_is_verified_and_ca_file_trusts_a_private_ca(sandbox: Sandbox, daemon: Daemon) -> None:
    (sandbox.root / "bao").mkdir()
    server = start_dev_server(sandbox.root / "bao", tls=True)
    try:
        server.policy("nxuskit-read", READ_POLICY)
        server.put("secret/nxuskit/openai", api_key=TEAM_KEY)
        sandbox.write_config(team_table(server.address))
        token = server.create_token("-policy=nxuskit-read")
        refused = run_cli(sandbox, "team", "login", input=token)
        assert refused.returncode == 5, refused.stderr
        assert "TLS verification failed (certificate verify failed): set ca_file" in refused.stderr
        assert server.ca_file is not None
        sandbox.write_config(team_table(server.address, ca_file=str(server.ca_file)))
        assert run_cli(sandbox, "team", "login", input=token).returncode == 0
        assert auth_resolve("openai").secret == TEAM_KEY
    finally:
        server.kill()


def test_commands_without_a_team_say_where_to_add_one(sandbox: Sandbox, daemon: Daemon) -> None:
    for command in (["team", "status"], ["team", "login"]):
        done = run_cli(sandbox, *command, input="x" * 12)
        assert done.returncode == 9, done.stderr
        assert "no team store is configured: add a [team] table" in done.stderr
    assert "team" not in run_cli(sandbox, "provider", "status").stdout
    with Client() as client:
        assert client.daemon_status().team is None


def test_a_wrong_team_table_costs_only_the_team(sandbox: Sandbox, daemon: Daemon) -> None:
    sandbox.write_config('[team]\naddress = "https://bao.example"\ncache_tll = 5\n')
    run_cli(sandbox, "provider", "set", "openai", input=PERSONAL_KEY)
    assert auth_resolve("openai").secret == PERSONAL_KEY
    table = run_cli(sandbox, "provider", "status")
    footer = " ".join(table.stdout.split())  # the footer wraps to the width
    assert "team: not used: " in footer
    assert "line 3: [team] unknown field 'cache_tll'" in footer
    done = run_cli(sandbox, "team", "status")
    assert done.returncode == 9
    assert "unknown field 'cache_tll'" in done.stderr
    assert stat.S_IMODE(sandbox.config_file.stat().st_mode) & 0o002 == 0


def test_plain_http_to_another_host_needs_insecure_http_and_status_shows_it(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    import socket

    host = socket.gethostname()  # a name, not a loopback literal: "another host" to the rule
    addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    if not addresses or not all(a.startswith("127.") or a == "::1" for a in addresses):
        pytest.skip(f"{host} does not resolve to loopback here: no safe address to use")
    address = f"http://{host}:{free_port()}"  # nothing listens: the traffic stays here
    sandbox.write_config(team_table(address))
    refused = run_cli(sandbox, "team", "status")
    assert refused.returncode == 9
    assert "is plain http to another machine" in refused.stderr
    sandbox.write_config(team_table(address, insecure_http=True))
    footer = " ".join(run_cli(sandbox, "provider", "status").stdout.split())
    assert f"team: {address} (token auth, plain http (insecure_http = true))" in footer
    with Client() as client:
        status = client.daemon_status()
    assert status.team is not None
    assert status.team.insecure is True
