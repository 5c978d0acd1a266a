"""A config.toml another user could write is not used (issue 9, item 3), against a real
nxuskitd, with the attacker running as uid 65534.

The attack from the issue: the victim's config.toml is world-writable; another user
points a provider's token_url at a server of theirs and waits for the next refresh.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import nxuskit
from nxuskit import protocol
from nxuskitd.stores import FileStore, Record
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import NOBODY, as_nobody, can_switch_user
from tests.integration.wire import connect

REFRESH_TOKEN = "rt-victim-0b5e9c2f7a41"
SECRET = "sk-trust-test-5d8a0c1e"
LEGIT = """\
[providers.acme]
auth_methods = ["oauth"]
[providers.acme.oauth]
authorize_url = "https://id.acme.example/auth"
token_url = "https://id.acme.example/token"
client_id = "nxuskit"
"""


class Thief(ThreadingHTTPServer):
    """The attacker's token endpoint: records what reaches it, answers like a real one."""

    def __init__(self) -> None:
        self.received: list[bytes] = []
        super().__init__(("127.0.0.1", 0), _ThiefHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _ThiefHandler(BaseHTTPRequestHandler):
    server: Thief

    def do_POST(self) -> None:
        self.server.received.append(self.rfile.read(int(self.headers["Content-Length"] or 0)))
        body = json.dumps({"access_token": "at-new", "token_type": "Bearer", "expires_in": 3600})
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def thief() -> Iterator[Thief]:
    server = Thief()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _need_nobody() -> None:
    reason = can_switch_user()
    if reason:
        pytest.skip(reason)


def _nobody_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _open_to_others(box: Sandbox) -> None:
    """Let other users reach the config directory (root-owned 0755 is still trusted)."""
    for directory in (box.root, box.root / "config", box.config_file.parent):
        directory.chmod(0o755)


@pytest.mark.root
@pytest.mark.timeout(60)
def test_another_user_cannot_redirect_a_refresh_through_a_writable_config(
    sandbox: Sandbox, daemon: Daemon, thief: Thief
) -> None:
    _need_nobody()
    path = sandbox.write_config(LEGIT)
    path.chmod(0o666)  # careless, or a umask of 000
    _open_to_others(sandbox)
    expired = time.time() - 60
    FileStore(str(sandbox.data_dir)).set(
        "acme",
        Record(secret="at-old", auth_method=protocol.OAUTH, updated_at=expired,
               expires_at=expired, refresh_token=REFRESH_TOKEN),
    )  # fmt: skip
    evil = LEGIT.replace("https://id.acme.example/token", f"{thief.base}/token")
    evil += "allow_insecure_http = true\n"
    write = "import sys; open(sys.argv[1], 'w').write(sys.argv[2])"
    attack = as_nobody(sys.executable, "-c", write, str(path), evil, env=_nobody_env())
    assert attack.returncode == 0, attack.stderr  # the attacker did rewrite it

    with pytest.raises(nxuskit.PermissionDenied) as refused:
        nxuskit.auth_resolve("acme")  # the refresh that would have gone to the thief
    assert f"{path} is writable by others (mode 0666)" in str(refused.value)
    assert thief.received == []
    # The daemon keeps serving what does not depend on the file.
    nxuskit.auth_set_credential("openai", SECRET)
    assert nxuskit.auth_resolve("openai").secret == SECRET
    with connect(sandbox.socket_path) as wire:
        listed = wire.request("provider.list")["result"]
    assert "acme" not in [entry["name"] for entry in listed["providers"]]
    assert f"{path} is writable by others" in listed["config"]["error"]
    assert f"config: {path} is writable by others" in daemon.log()
    assert REFRESH_TOKEN not in daemon.log()


@pytest.mark.root
@pytest.mark.timeout(60)
def test_a_config_another_user_owns_is_not_used(sandbox: Sandbox) -> None:
    _need_nobody()
    sandbox.root.chmod(0o755)
    theirs = sandbox.root / "shared"  # say XDG_CONFIG_HOME points at a shared directory
    theirs.mkdir()
    os.chown(theirs, NOBODY, NOBODY)
    plant = (
        "import os, sys; os.makedirs(sys.argv[1] + '/nxuskit');"
        "open(sys.argv[1] + '/nxuskit/config.toml', 'w').write(sys.argv[2])"
    )
    text = '[providers.acme]\nenv = "ACME_KEY"\n[providers.openai]\nenv = "ACME_KEY"\n'
    planted = as_nobody(sys.executable, "-c", plant, str(theirs), text, env=_nobody_env())
    assert planted.returncode == 0, planted.stderr
    env = {"XDG_CONFIG_HOME": str(theirs)}

    listed = run_cli(sandbox, "provider", "list", "--json", env=env)
    assert listed.returncode == 0
    entries = {entry["name"]: entry for entry in json.loads(listed.stdout)}
    assert "acme" not in entries
    assert entries["openai"]["env"] == "OPENAI_API_KEY"  # apps keep reading their own key
    assert f"belongs to uid {NOBODY}" in listed.stderr
    acme = run_cli(sandbox, "provider", "status", "acme", env=env)
    assert acme.returncode == 6  # permission denied
    assert "is no built-in provider" in acme.stderr
    assert len(acme.stderr.strip().splitlines()) == 1
