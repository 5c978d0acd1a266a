"""Credentials stored for a provider that later left config.toml ("orphans"): listed by
status, removable by their exact stored name, never echoed when a name looks like a key."""

from __future__ import annotations

import json

import pytest

import nxuskit
from nxuskit.errors import UnknownProvider
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.wire import Wire, error_kind

ACME = '[providers.acme]\ndisplay_name = "Acme"\nenv = "ACME_KEY"\nauth_methods = ["api_key"]\n'
SECRET = "sk-acme-5d1c07e9b2a4"
KEY_LIKE = "sk-proj-Q3vX9kTz2LmN8pRw4YcB7dFh"


@pytest.fixture
def orphan(daemon: Daemon, sandbox: Sandbox) -> str:
    """A credential stored for acme, then acme removed from config.toml."""
    sandbox.write_config(ACME)
    assert run_cli(sandbox, "provider", "set", "acme", input=SECRET + "\n").returncode == 0
    sandbox.write_config("")
    return "acme"


def test_status_lists_an_orphan_on_the_wire_and_under_the_table(
    daemon: Daemon, sandbox: Sandbox, orphan: str
) -> None:
    with Wire(sandbox.socket_path) as wire:
        answer = wire.request("auth.status", {})
    assert answer["result"]["orphans"] == ["acme"]
    assert all(entry["provider"] != "acme" for entry in answer["result"]["providers"])
    assert nxuskit.auth_status_report().orphans == ["acme"]
    done = run_cli(sandbox, "provider", "status")
    assert done.returncode == 0, done.stderr
    footer = done.stdout.rstrip().splitlines()[-3:]
    assert footer == [
        "stored for providers no longer in config.toml:",
        "  acme",
        "  remove one with: nxuskit-cli provider remove NAME",
    ]
    assert all(len(line) <= 80 for line in done.stdout.splitlines()[-3:])
    assert SECRET not in done.stdout + done.stderr + daemon.log()


def test_provider_remove_takes_an_orphan_by_its_stored_name(
    daemon: Daemon, sandbox: Sandbox, orphan: str
) -> None:
    done = run_cli(sandbox, "provider", "remove", "acme")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Removed the stored credential for 'acme'.\n"
    assert SECRET not in sandbox.store_file.read_text()
    assert nxuskit.auth_status_report().orphans == []
    footer = run_cli(sandbox, "provider", "status").stdout
    assert "no longer in config.toml" not in footer
    again = run_cli(sandbox, "provider", "remove", "acme")
    assert again.returncode == 3  # neither known nor stored any more
    assert "unknown provider 'acme'" in again.stderr


def test_the_client_library_removes_an_orphan(daemon: Daemon, orphan: str) -> None:
    assert nxuskit.auth_remove_credential("acme") is True
    with pytest.raises(UnknownProvider):
        nxuskit.auth_remove_credential("acme")


def test_only_the_exact_stored_name_removes_an_orphan(
    daemon: Daemon, sandbox: Sandbox, orphan: str
) -> None:
    for near in ("ACME", " acme", "acm"):
        done = run_cli(sandbox, "provider", "remove", near)
        assert done.returncode == 3, (near, done.stdout, done.stderr)
    assert nxuskit.auth_status_report().orphans == ["acme"]


def test_a_name_that_looks_like_a_key_is_never_echoed(daemon: Daemon, sandbox: Sandbox) -> None:
    done = run_cli(sandbox, "provider", "remove", KEY_LIKE)
    assert done.returncode == 3
    assert KEY_LIKE not in done.stdout + done.stderr
    with Wire(sandbox.socket_path) as wire:
        answer = wire.request("auth.remove_credential", {"provider": KEY_LIKE})
    assert error_kind(answer) == "unknown_provider"
    assert KEY_LIKE not in json.dumps(answer)
    assert KEY_LIKE not in daemon.log()


def test_a_stored_name_that_looks_like_a_key_is_not_listed(
    daemon: Daemon, sandbox: Sandbox
) -> None:
    """A store edited by hand can hold any name: status never shows one that may be a key,
    and its exact name still removes it."""
    nxuskit.auth_set_credential("openai", SECRET)
    document = json.loads(sandbox.store_file.read_text())
    document["credentials"][KEY_LIKE] = {"secret": SECRET}
    sandbox.store_file.write_text(json.dumps(document))
    report = nxuskit.auth_status_report()
    assert report.orphans == []
    done = run_cli(sandbox, "provider", "remove", KEY_LIKE)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Removed the stored credential for (that name).\n"
    assert KEY_LIKE not in sandbox.store_file.read_text()
    assert KEY_LIKE not in daemon.log()
