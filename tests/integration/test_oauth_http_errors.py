"""An authorization server that fails with HTTP errors: the login says what it answered.

A loopback server grants device codes but answers every token poll with HTTP 500 (and,
as careless servers do, echoes the device code in its error page): the login must end
saying "HTTP 500" and the server's words, not merely "timed out", and neither the error
nor the daemon's log may contain the device code.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

import nxuskit
from tests.conftest import Daemon, Sandbox

DEVICE_CODE = "dc-" + secrets.token_urlsafe(32)


class FailingServer(ThreadingHTTPServer):
    """Device authorization works; the token endpoint answers 500."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.polls = 0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FailingServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        form = parse_qs(self.rfile.read(int(self.headers["Content-Length"])).decode())
        if self.path == "/device/auth":
            grant = {
                "device_code": DEVICE_CODE,
                "user_code": "WDJB-MJHT",
                "verification_uri": f"{self.server.base}/device",
                "expires_in": 600,
                "interval": 1,
            }
            self._send(200, json.dumps(grant).encode(), "application/json")
            return
        self.server.polls += 1
        echoed = form.get("device_code", [""])[0]
        page = f"Database unavailable\nwhile handling device_code={echoed}\n"
        self._send(500, page.encode(), "text/plain")


@pytest.fixture
def failing() -> Iterator[FailingServer]:
    server = FailingServer()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.timeout(60)
def test_a_device_poll_answered_with_http_500_says_so(
    sandbox: Sandbox, daemon: Daemon, failing: FailingServer
) -> None:
    sandbox.write_config(
        "[providers.broken]\n"
        'auth_methods = ["oauth"]\n'
        "[providers.broken.oauth]\n"
        f'authorize_url = "{failing.base}/auth"\n'
        f'token_url = "{failing.base}/token"\n'
        f'device_authorization_url = "{failing.base}/device/auth"\n'
        'client_id = "nxuskit-test"\n'
        "allow_insecure_http = true\n"
    )
    start = nxuskit.auth_login_start("broken", device=True, timeout=4)
    with pytest.raises(nxuskit.LoginFailed) as caught:
        nxuskit.auth_login_wait(start.login_id, timeout=20)
    message = str(caught.value)
    assert failing.polls >= 1
    assert "timed out after 4s" in message
    assert f"127.0.0.1:{failing.server_address[1]} answered HTTP 500: Database unavailable" in (
        message
    )
    log = daemon.log()
    assert "answered HTTP 500: Database unavailable" in log
    assert DEVICE_CODE not in message
    assert DEVICE_CODE not in log
    assert DEVICE_CODE[3:23] not in log  # not even a piece of it
