"""OAuth logins and daemon-owned refresh against a real authorization server (oidc-provider).

Each test runs a real nxuskitd in a sandbox whose config.toml points provider ``acme`` at
the session's oidc-provider (see oauth_support). "nxuskit-short" access tokens live
SHORT_TTL seconds, so refresh happens within a test.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import default_client, reset_default
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.live_cli import LiveCli
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server

pytestmark = pytest.mark.timeout(120)


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


def configure(
    box: Sandbox, server: AuthServer, client_id: str = "nxuskit-test", **extra: str
) -> None:
    box.write_config(server.config(client_id=client_id, **extra))


def log_in(browser: Browser, provider: str = "acme") -> nxuskit.LoginResult:
    """A whole browser login through the client library."""
    start = nxuskit.auth_login_start(provider)
    assert start.authorization_url is not None
    answer = browser.callback(browser.authorize(start.authorization_url))
    assert answer.status_code == 200, answer.text
    result = nxuskit.auth_login_wait(start.login_id, timeout=30)
    assert result is not None
    return result


def stored(box: Sandbox, provider: str = "acme") -> dict[str, object]:
    document = json.loads(box.store_file.read_text())
    record: dict[str, object] = document["credentials"][provider]
    return record


def quiet(texts: list[str], *secrets: object) -> None:
    """None of ``secrets`` appears in any of ``texts``."""
    for secret in secrets:
        assert isinstance(secret, str)
        assert len(secret) >= 8
        for text in texts:
            assert secret not in text


def test_login_through_the_cli(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    cli = LiveCli(sandbox, "provider", "login", "acme", "--no-browser")
    url = cli.line_matching(r"^http://127\.0\.0\.1:\d+/auth\?")
    assert "code_challenge_method=S256" in url
    assert "prompt=consent" in url
    callback = browser.authorize(url)
    code = re.search(r"[?&]code=([^&]+)", callback)
    assert code is not None
    stray = browser.callback(callback.split("/callback")[0] + "/favicon.ico")
    assert stray.status_code == 404  # any other path: 404, and the login goes on
    page = browser.callback(callback)
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "You can close this tab" in page.text
    status, out, err = cli.finish()
    assert status == 0, err
    assert "Logged in to acme" in out

    shown = run_cli(sandbox, "provider", "status", "acme", "--json")
    assert shown.returncode == 0
    (entry,) = json.loads(shown.stdout)
    assert (entry["status"], entry["source"], entry["auth_method"]) == (
        "authenticated",
        "oauth",
        "oauth",
    )
    assert 3500 < entry["expires_at"] - time.time() <= 3600
    table = run_cli(sandbox, "provider", "status", "acme")
    assert table.stdout.splitlines()[0].split()[-1] == "Expires"

    # resolve: a token the server accepts; the refresh token never leaves the daemon
    resolved = default_client().call(protocol.RESOLVE, {"provider": "acme"})
    record = stored(sandbox)
    assert resolved["secret"] == record["secret"]
    assert record["refresh_token"] not in json.dumps(resolved)
    assert set(resolved) == {"provider", "secret", "source", "auth_method", "expires_at", "reuse"}
    assert auth_server.userinfo(resolved["secret"]).json()["sub"] == "alice"
    verifier_like = re.compile(r"[A-Za-z0-9_-]{86}")
    log = daemon.log()
    assert not verifier_like.search(log)
    state = parse_qs(urlsplit(url).query)["state"][0]
    quiet([log], state)
    quiet([log, shown.stdout, table.stdout, out, err], code.group(1), record["secret"])
    quiet([log, out, err], record["refresh_token"])


def test_eight_processes_one_refresh(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server, client_id="nxuskit-short")
    first = log_in(browser)
    old = nxuskit.auth_resolve("acme").secret
    assert first.expires_at is not None
    time.sleep(max(first.expires_at - time.time(), 0) + 0.5)  # the token is now expired
    before = auth_server.refreshes()

    go = sandbox.root / "go"
    script = (
        "import os, sys, time, nxuskit\n"
        "nxuskit.daemon_status()  # connected before the start signal\n"
        f"while not os.path.exists({str(go)!r}): time.sleep(0.002)\n"
        "print(nxuskit.auth_resolve('acme').secret)\n"
    )
    children = [
        subprocess.Popen(
            [sys.executable, "-c", script], env=sandbox.env, stdout=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    time.sleep(1.5)  # let all eight start and connect
    go.touch()
    tokens = {child.communicate(timeout=30)[0].strip() for child in children}
    assert all(child.returncode == 0 for child in children)
    assert len(tokens) == 1
    (token,) = tokens
    assert token != old
    assert auth_server.refreshes() == before + 1
    assert auth_server.userinfo(token).status_code == 200

    # the rotated refresh token was kept: the next refresh works too
    expires = nxuskit.auth_status("acme").expires_at
    assert expires is not None
    time.sleep(max(expires - time.time(), 0) + 0.5)
    again = nxuskit.auth_resolve("acme").secret
    assert again not in (token, None)
    assert auth_server.refreshes() == before + 2
    assert auth_server.userinfo(again or "").status_code == 200
    assert auth_server.stats()["refresh_errors"] == {}


def test_refresh_after_a_daemon_restart(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server, client_id="nxuskit-short")
    result = log_in(browser)
    daemon.stop()
    reset_default()
    from tests.conftest import start_daemon

    second = start_daemon(sandbox, name="nxuskitd-2.log")
    try:
        before = auth_server.refreshes()
        assert result.expires_at is not None
        time.sleep(max(result.expires_at - time.time(), 0) + 0.3)
        token = nxuskit.auth_resolve("acme")
        assert token.source == "oauth"
        assert auth_server.refreshes() == before + 1
        assert auth_server.userinfo(token.secret or "").status_code == 200
    finally:
        second.stop()


def test_state_mismatch_is_refused(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    start = nxuskit.auth_login_start("acme")
    assert start.authorization_url is not None
    callback = browser.authorize(start.authorization_url)
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    assert forged != callback
    refused = browser.callback(forged)
    assert refused.status_code == 400
    assert "state mismatch" in refused.text
    missing = browser.callback(re.sub(r"&?state=[^&]+", "", callback))
    assert missing.status_code == 400
    assert nxuskit.auth_login_wait(start.login_id, timeout=0.5) is None  # still waiting
    assert browser.callback(callback).status_code == 200
    assert nxuskit.auth_login_wait(start.login_id, timeout=10) is not None
    try:  # single use: refused as finished, or the listener is already gone
        replay: int | None = browser.callback(callback).status_code
    except httpx2.TransportError:
        replay = None
    assert replay in (None, 400)


def test_denied_consent(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    cli = LiveCli(sandbox, "provider", "login", "acme", "--no-browser")
    url = cli.line_matching(r"^http://127\.0\.0\.1:\d+/auth\?")
    callback = browser.authorize(url, consent=False)
    assert "error=access_denied" in callback
    page = browser.callback(callback)
    assert page.status_code == 403
    assert "denied" in page.text
    status, _out, err = cli.finish()
    assert status == 11
    assert "denied" in err
    assert "Traceback" not in err
    assert run_cli(sandbox, "provider", "status", "acme").returncode == 1


def test_login_timeout(sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer) -> None:
    configure(sandbox, auth_server)
    began = time.monotonic()
    result = run_cli(sandbox, "provider", "login", "acme", "--no-browser", "--timeout", "2")
    assert result.returncode == 11
    assert "timed out" in result.stderr
    assert time.monotonic() - began < 15
    url = next(line for line in result.stdout.splitlines() if line.startswith("http"))
    redirect = parse_qs(urlsplit(url).query)["redirect_uri"][0]
    with pytest.raises(httpx2.ConnectError):  # the listener closed with the login
        httpx2.get(redirect, timeout=5)
    assert run_cli(sandbox, "provider", "status", "acme").returncode == 1


def test_device_flow(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    began = time.monotonic()
    cli = LiveCli(sandbox, "provider", "login", "acme", "--device")
    page = cli.line_matching(r"^http://127\.0\.0\.1:\d+/device$")
    code = cli.line_matching(r"enter the code: ").split(": ", 1)[1]
    polls = auth_server.stats()["device_polls"]
    assert isinstance(polls, int)
    # the daemon polls (every second, as the server advertised) and is told to slow down
    assert wait_until(lambda: auth_server.stats()["device_polls"] != polls, timeout=10)
    done = browser.approve_device(page, code)
    assert "success" in done.lower()
    status, out, err = cli.finish()
    assert status == 0, err
    assert "Logged in to acme" in out
    # slow_down honoured: after the first poll (1 s), the next came 1 + 5 s later
    assert time.monotonic() - began >= 7
    token = nxuskit.auth_resolve("acme")
    assert auth_server.userinfo(token.secret or "").status_code == 200
    assert stored(sandbox)["refresh_token"]


def test_device_flow_denied(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    cli = LiveCli(sandbox, "provider", "login", "acme", "--device")
    page = cli.line_matching(r"^http://127\.0\.0\.1:\d+/device$")
    code = cli.line_matching(r"enter the code: ").split(": ", 1)[1]
    browser.approve_device(page, code, approve=False)
    status, _out, err = cli.finish()
    assert status == 11
    assert "denied" in err


def test_logout_revokes(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    log_in(browser)
    record = stored(sandbox)
    access, refresh = record["secret"], record["refresh_token"]
    assert isinstance(access, str)
    assert isinstance(refresh, str)
    assert auth_server.userinfo(access).status_code == 200
    revocations = auth_server.stats()["revocations"]
    result = run_cli(sandbox, "provider", "logout", "acme")
    assert result.returncode == 0, result.stderr
    assert "revoked" in result.stdout
    assert auth_server.stats()["revocations"] == revocations + 2  # type: ignore[operator]
    assert auth_server.userinfo(access).status_code == 401
    reuse = httpx2.post(
        auth_server.url("/token"),
        data={"grant_type": "refresh_token", "refresh_token": refresh, "client_id": "nxuskit-test"},
    )
    assert reuse.json()["error"] == "invalid_grant"
    assert run_cli(sandbox, "provider", "status", "acme").returncode == 1
    again = run_cli(sandbox, "provider", "logout", "acme")
    assert "nothing removed" in again.stdout


def test_a_dead_grant_asks_for_a_new_login(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server, client_id="nxuskit-short")
    result = log_in(browser)
    refresh = stored(sandbox)["refresh_token"]
    # another program spends the refresh token: the daemon's copy is now a reused one
    stolen = httpx2.post(
        auth_server.url("/token"),
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh,
            "client_id": "nxuskit-short",
        },
    )
    assert stolen.status_code == 200
    assert result.expires_at is not None
    time.sleep(max(result.expires_at - time.time(), 0) + 0.3)
    with pytest.raises(nxuskit.NotAuthenticated) as caught:
        nxuskit.auth_resolve("acme")
    assert "nxuskit-cli provider login acme" in str(caught.value)
    assert run_cli(sandbox, "provider", "status", "acme").returncode == 1


def test_report_invalid_refreshes_once(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    log_in(browser)
    first = nxuskit.auth_resolve("acme").secret
    before = auth_server.refreshes()
    assert nxuskit.auth_report_invalid("acme", first) is True
    second = nxuskit.auth_resolve("acme").secret
    assert second != first
    assert nxuskit.auth_report_invalid("acme", first) is False  # already replaced
    assert auth_server.refreshes() == before + 1
    assert auth_server.userinfo(second or "").status_code == 200


def test_localhost_redirect_listens_on_both_loopbacks(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server, redirect_host="localhost")
    start = nxuskit.auth_login_start("acme")
    assert start.redirect_uri is not None
    assert start.redirect_uri.startswith("http://localhost:")
    port = int(start.redirect_uri.split(":")[2].split("/")[0])
    answers = []
    for host in ("127.0.0.1", "[::1]"):
        try:
            answers.append(httpx2.get(f"http://{host}:{port}/other", timeout=5).status_code)
        except httpx2.ConnectError:
            answers.append(0)
    assert answers[0] == 404
    assert answers[1] in (404, 0)  # 0: no IPv6 on this machine
    assert start.authorization_url is not None
    callback = browser.authorize(start.authorization_url)
    assert browser.callback(callback).status_code == 200
    assert nxuskit.auth_login_wait(start.login_id, timeout=10) is not None


def test_ctrl_c_cancels_the_login_in_the_daemon(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer
) -> None:
    import signal

    configure(sandbox, auth_server)
    cli = LiveCli(sandbox, "provider", "login", "acme", "--no-browser")
    cli.line_matching(r"^http://127\.0\.0\.1:\d+/auth\?")
    cli.process.send_signal(signal.SIGINT)
    status, _out, err = cli.finish()
    assert status == 130
    assert "cancelled" in err
    assert wait_until(lambda: "login for acme cancelled" in daemon.log(), timeout=10)


def test_no_oauth_login_for_api_key_providers(sandbox: Sandbox, daemon: Daemon) -> None:
    result = run_cli(sandbox, "provider", "login", "openai", "--no-browser")
    assert result.returncode == 8
    assert "no OAuth login" in result.stderr
