"""The login's loopback listener under attack by another local user (uid 65534), and its
lifetime: a real nxuskitd, a real authorization server (oidc-provider), real sockets.

Any local user can reach a loopback port. Holding the listener's connections must not
lock the browser out; a request naming another host (a DNS-rebinding web page) must not
complete the login; a flood of refused requests must not flood the log.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

import nxuskit
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import NOBODY, can_switch_user, wait_until
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.test_oauth import configure, stored

pytestmark = pytest.mark.timeout(120)

# Holds WANT idle connections to the port until its stdin closes, opening a new one for
# each the daemon closes; prints "ready", then how many the daemon closed.
_HOLDER = r"""
import select, socket, sys
port, want = int(sys.argv[1]), int(sys.argv[2])
def connect():
    return socket.create_connection(("127.0.0.1", port), timeout=5)
held = [connect() for _ in range(want)]
print("ready", flush=True)
closed = 0
while True:
    ready = select.select(held + [sys.stdin], [], [], 0.05)[0]
    if sys.stdin in ready:
        break
    for sock in ready:
        try:
            data = sock.recv(1)
        except OSError:
            data = b""
        if not data:
            closed += 1
            held.remove(sock)
            sock.close()
            held.append(connect())
print(closed, flush=True)
"""

# Sends the request head read from stdin, N times on fresh connections, to the port;
# prints each answer's status line.
_SENDER = r"""
import socket, sys
port, times = int(sys.argv[1]), int(sys.argv[2])
head = sys.stdin.read().replace("\n", "\r\n").encode()
for _ in range(times):
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    print(answer.split(b"\r\n", 1)[0].decode(), flush=True)
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


def _nobody_env() -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    if "PYTHONPATH" in os.environ:
        env["PYTHONPATH"] = os.environ["PYTHONPATH"]
    return env


def _as_nobody(script: str, *args: str) -> subprocess.Popen[str]:
    reason = can_switch_user()
    if reason:
        pytest.skip(reason)
    return subprocess.Popen(
        ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
         sys.executable, "-c", script, *args],
        env=_nobody_env(), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _port(url: str) -> int:
    port = urlsplit(url).port
    assert port is not None
    return port


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


@pytest.mark.root
def test_held_connections_do_not_lock_the_browser_out(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    start = nxuskit.auth_login_start("acme")
    assert start.authorization_url is not None
    callback = browser.authorize(start.authorization_url)
    holder = _as_nobody(_HOLDER, str(_port(callback)), "64")  # twice the listener's slots
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "ready", holder.stderr
        answer = browser.callback(callback)  # while uid 65534 keeps taking every slot
    finally:
        out, err = holder.communicate("", timeout=30)
    assert answer.status_code == 200, answer.text
    assert nxuskit.auth_login_wait(start.login_id, timeout=10) is not None
    assert holder.returncode == 0, err
    assert int(out.strip()) > 0  # the daemon closed idle connections to make room
    assert stored(sandbox)["auth_method"] == "oauth"


@pytest.mark.root
def test_a_callback_for_another_host_does_not_log_in(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser
) -> None:
    configure(sandbox, auth_server)
    start = nxuskit.auth_login_start("acme")
    assert start.authorization_url is not None
    callback = browser.authorize(start.authorization_url)
    port, target = _port(callback), callback.split(f":{_port(callback)}", 1)[1]

    def send(host: str, query: str, times: int) -> list[str]:
        sender = _as_nobody(_SENDER, str(port), str(times))
        out, err = sender.communicate(
            f"GET {query} HTTP/1.1\nHost: {host}\nConnection: close\n\n", timeout=60
        )
        assert sender.returncode == 0, err
        return out.splitlines()

    # the real code and state, through a name that is not the redirect's: refused
    assert send("evil.example", target, 1) == ["HTTP/1.1 400 Bad Request"]
    assert send(f"evil.example:{port}", target, 1) == ["HTTP/1.1 400 Bad Request"]
    # many refusals of both kinds: one warning line each, not one per request
    assert send("evil.example", target, 20) == ["HTTP/1.1 400 Bad Request"] * 20
    forged = re.sub(r"state=[^&]+", "state=forged", target)
    assert send(f"127.0.0.1:{port}", forged, 20) == ["HTTP/1.1 400 Bad Request"] * 20
    assert nxuskit.auth_login_wait(start.login_id, timeout=0.5) is None  # still waiting
    assert browser.callback(callback).status_code == 200
    assert nxuskit.auth_login_wait(start.login_id, timeout=10) is not None

    assert wait_until(lambda: _refused(port))  # the listener closed with the login
    log = daemon.log()
    # the first of each kind, then one summary when the listener closed (a summary line
    # stands for itself and the ones it counts)
    assert log.count("refused a request for another host (Host: evil.example") == 2
    assert "(and 20 more like it in the last" in log  # 22 wrong hosts in all
    assert log.count("refused a callback whose state did not match") == 2
    assert "(and 18 more like it in the last" in log  # 20 forged states


def test_the_listener_lives_only_while_its_login_runs(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer
) -> None:
    configure(sandbox, auth_server)
    start = nxuskit.auth_login_start("acme")
    assert start.redirect_uri is not None
    port = _port(start.redirect_uri)
    assert not _refused(port)
    nxuskit.auth_login_cancel(start.login_id)
    with pytest.raises(nxuskit.LoginFailed, match="cancelled"):
        nxuskit.auth_login_wait(start.login_id, timeout=10)
    assert wait_until(lambda: _refused(port))
