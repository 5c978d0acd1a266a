"""A wrong entry in config.toml, against a real nxuskitd and the real CLI (issue 9, item 11).

Before: ``token_url = "http://[::1/token"`` made every request that loads the registry
fail with -32603 and a traceback in the log, resolves of unrelated built-ins included,
and ``provider list`` exited 70; one ``env = 5`` broke every provider.
"""

from __future__ import annotations

import json
import re

import nxuskit
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.wire import connect, error_kind

SECRET = "sk-config-errors-3c9d1e"
CONFIG = """\
[providers.good]
env = "GOOD_KEY"

[providers.acme]
auth_methods = ["oauth"]
[providers.acme.oauth]
authorize_url = "https://id.example.com/auth"
token_url = "http://[::1/token"
client_id = "nxuskit"

[providers.beta]
env = 5

[daemon]
log_level = "debug"
"""


def test_a_bad_entry_breaks_only_that_provider(sandbox: Sandbox, daemon: Daemon) -> None:
    path = sandbox.write_config(CONFIG)
    nxuskit.auth_set_credential("openai", SECRET)
    assert nxuskit.auth_resolve("openai").secret == SECRET
    nxuskit.auth_set_credential("good", SECRET)
    with connect(sandbox.socket_path) as wire:
        acme = wire.request("auth.resolve", {"provider": "acme"})
        beta = wire.request("auth.status", {"provider": "beta"})
        listed = wire.request("provider.list")["result"]
        everyone = wire.request("auth.status")["result"]["providers"]
    assert error_kind(acme) == "config_invalid"
    assert acme["error"]["code"] == 1006
    assert acme["error"]["message"].startswith(f"{path}, line 8: [providers.acme.oauth] token_url")
    assert error_kind(beta) == "config_invalid"
    assert f"{path}, line 12: [providers.beta] env must be a string" in beta["error"]["message"]
    errors = {entry["name"]: entry["error"] for entry in listed["providers"]}
    assert errors["openai"] is None
    assert errors["good"] is None
    assert errors["acme"] == acme["error"]["message"]
    assert listed["config"]["error"] is None
    assert "unknown top-level key 'daemon'" in listed["config"]["warnings"][0]
    states = {entry["provider"]: entry["status"] for entry in everyone}
    assert (states["openai"], states["good"], states["beta"]) == (
        "authenticated",
        "authenticated",
        "config_invalid",
    )
    log = daemon.log()
    assert "Traceback" not in log
    assert log.count("config: ") == 3  # acme, beta and the unknown key: once, not per request
    assert SECRET not in log


def test_the_cli_lists_the_broken_entry_and_names_its_line(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    path = sandbox.write_config(CONFIG)
    listed = run_cli(sandbox, "provider", "list")
    assert listed.returncode == 0
    assert re.search(r"^acme\s.*\(config invalid\)", listed.stdout, re.MULTILINE)
    assert re.search(r"^openai\s", listed.stdout, re.MULTILINE)
    assert f"note: {path}, line 8: [providers.acme.oauth]" in listed.stderr
    assert f"note: {path}, line 14: unknown top-level key 'daemon'" in listed.stderr
    as_json = run_cli(sandbox, "provider", "list", "--json")
    assert json.loads(as_json.stdout)[-1]["name"] == "beta"
    status = run_cli(sandbox, "provider", "status")
    assert status.returncode == 0
    assert re.search(r"^beta\s+Config invalid", status.stdout, re.MULTILINE)
    one = run_cli(sandbox, "provider", "status", "acme")
    assert one.returncode == 9
    assert one.stderr.strip().splitlines() == [
        f"nxuskit-cli: {path}, line 8: [providers.acme.oauth] token_url is not a valid URL: "
        "check its brackets, host and port"
    ]
    fine = run_cli(sandbox, "provider", "status", "ollama")
    assert fine.returncode == 0


def test_a_toml_syntax_error_keeps_the_builtins(sandbox: Sandbox, daemon: Daemon) -> None:
    path = sandbox.write_config('[providers.acme]\nenv = "ACME_KEY"\ndisplay_name "x"\n')
    nxuskit.auth_set_credential("groq", SECRET)
    assert nxuskit.auth_resolve("groq").secret == SECRET
    acme = run_cli(sandbox, "provider", "status", "acme")
    assert acme.returncode == 9
    assert f"{path}: " in acme.stderr
    assert "line 3" in acme.stderr
    listed = run_cli(sandbox, "provider", "list")
    assert listed.returncode == 0
    assert "line 3" in listed.stderr
