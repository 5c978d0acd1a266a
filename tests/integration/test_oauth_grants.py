"""What happens to a grant at the server: two daemons sharing one store refresh it once,
a new login ends the previous one, finished logins stay bounded, and the advice after a
login ended. Real nxuskitd processes against a real authorization server (oidc-provider,
rotating refresh tokens, reuse of a spent one revokes the whole grant)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import default_client
from nxuskitd.oauth.ledger import MAX_FINISHED
from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.conftest import wait_until
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.test_oauth import configure, log_in, stored
from tests.integration.wire import connect

pytestmark = pytest.mark.timeout(120)

RESOLVER = """
import os, sys, time, nxuskit
nxuskit.daemon_status()  # connected before the start signal
while not os.path.exists(sys.argv[1]): time.sleep(0.002)
try:
    print(nxuskit.auth_resolve("acme").secret)
except nxuskit.NxuskitError as error:
    print("ERROR", type(error).__name__, error)
"""


@pytest.fixture(scope="module")
def auth_server() -> Iterator[AuthServer]:
    yield from run_auth_server()


@pytest.fixture
def browser(auth_server: AuthServer) -> Iterator[Browser]:
    agent = Browser(auth_server)
    try:
        yield agent
    finally:
        agent.close()


def _spend(server: AuthServer, refresh_token: object, client_id: str) -> httpx2.Response:
    """Use ``refresh_token`` at the server directly (as a thief, or a test, would)."""
    return httpx2.post(
        server.url("/token"),
        data={"grant_type": "refresh_token", "refresh_token": refresh_token,
              "client_id": client_id},
    )  # fmt: skip


def test_two_daemons_sharing_a_store_refresh_once(
    sandbox: Sandbox,
    daemon: Daemon,
    spawn: Callable[..., Daemon],
    auth_server: AuthServer,
    browser: Browser,
) -> None:
    configure(sandbox, auth_server, client_id="nxuskit-short")
    first = log_in(browser)
    other_socket = sandbox.socket_path.with_name("other.sock")
    other = spawn("--socket", str(other_socket), wait=False, name="nxuskitd-other.log")
    assert wait_until(lambda: socket_answers(other_socket))
    assert first.expires_at is not None
    time.sleep(max(first.expires_at - time.time(), 0) + 0.5)  # the token is now expired
    before = auth_server.refreshes()

    go = sandbox.root / "go"
    sockets = [sandbox.socket_path, other_socket] * 5
    children = [
        subprocess.Popen(
            [sys.executable, "-c", RESOLVER, str(go)],
            env={**sandbox.env, "NXUSKIT_SOCKET": str(path)},
            stdout=subprocess.PIPE,
            text=True,
        )
        for path in sockets
    ]
    assert wait_until(lambda: daemon_connections(sandbox.socket_path) >= 6)  # and this probe
    assert wait_until(lambda: daemon_connections(other_socket) >= 6)
    go.touch()
    answers = [child.communicate(timeout=60)[0].strip() for child in children]
    assert not [answer for answer in answers if answer.startswith("ERROR")], answers
    assert len(set(answers)) == 1
    assert auth_server.refreshes() == before + 1
    assert auth_server.stats()["refresh_errors"] == {}
    token = answers[0]
    assert auth_server.userinfo(token).status_code == 200  # the grant survived
    for path in (sandbox.socket_path, other_socket):  # both serve the one rotated record
        assert resolve_at(path)["secret"] == token
    assert "login ended" not in daemon.log() + other.log()


def daemon_connections(path: Path) -> int:
    return int(resolve_at(path, protocol.DAEMON_STATUS)["connections"])


def resolve_at(path: Path, method: str = protocol.RESOLVE) -> dict[str, Any]:
    params = {"provider": "acme"} if method == protocol.RESOLVE else {}
    with connect(path, timeout=30) as wire:
        answer: dict[str, Any] = wire.request(method, params)["result"]
    return answer


def test_a_new_login_revokes_the_previous_one(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    log_in(browser)
    old = stored(sandbox)
    revocations = auth_server.stats()["revocations"]
    assert isinstance(revocations, int)
    # the same browser session: oidc-provider puts the new tokens in the same grant
    start = default_client().call(protocol.LOGIN_START, {"provider": "acme"})
    assert start["revoked"] is True
    assert auth_server.stats()["revocations"] == revocations + 2
    assert _spend(auth_server, old["refresh_token"], "nxuskit-test").json()["error"] == (
        "invalid_grant"
    )
    assert auth_server.userinfo(str(old["secret"])).status_code == 401
    assert browser.callback(browser.authorize(start["authorization_url"])).status_code == 200
    assert nxuskit.auth_login_wait(start["login_id"], timeout=10) is not None
    new = stored(sandbox)
    assert new["refresh_token"] != old["refresh_token"]
    assert auth_server.userinfo(str(new["secret"])).status_code == 200
    assert nxuskit.auth_report_invalid("acme", str(new["secret"])) is True  # a refresh works
    assert auth_server.userinfo(nxuskit.auth_resolve("acme").secret or "").status_code == 200
    log = daemon.log()
    for token in (old["secret"], old["refresh_token"], new["secret"], new["refresh_token"]):
        assert str(token) not in log


def test_started_and_cancelled_logins_stay_bounded(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer
) -> None:
    configure(sandbox, auth_server)
    for _ in range(MAX_FINISHED + 100):
        start = nxuskit.auth_login_start("acme")
        assert nxuskit.auth_login_cancel(start.login_id) is True

    def logins() -> dict[str, int]:
        counts: dict[str, int] = default_client().call(protocol.DAEMON_STATUS, {})["logins"]
        return counts

    assert wait_until(lambda: logins()["running"] == 0)
    assert logins()["finished"] == MAX_FINISHED
    with pytest.raises(nxuskit.LoginFailed, match="cancelled"):  # the latest are kept
        nxuskit.auth_login_wait(start.login_id, timeout=1)


def test_advice_for_an_oauth_provider_is_to_log_in(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server, client_id="nxuskit-short")
    with pytest.raises(nxuskit.NotAuthenticated) as nothing:
        nxuskit.auth_resolve("acme")
    assert "run `nxuskit-cli provider login acme`" in str(nothing.value)
    assert "provider set" not in str(nothing.value)
    result = log_in(browser)
    spent = _spend(auth_server, stored(sandbox)["refresh_token"], "nxuskit-short")
    assert spent.status_code == 200  # someone else used it: the daemon's copy is dead
    assert result.expires_at is not None
    time.sleep(max(result.expires_at - time.time(), 0) + 0.3)
    for _ in range(3):  # every resolve after the dead grant, not only the first
        with pytest.raises(nxuskit.NotAuthenticated) as ended:
            nxuskit.auth_resolve("acme")
        assert "no longer valid (invalid_grant)" in str(ended.value)
        assert "run `nxuskit-cli provider login acme`" in str(ended.value)
