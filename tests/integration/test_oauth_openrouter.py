"""OpenRouter's built-in login against a loopback server that follows its documented API.

OpenRouter's PKCE flow: the user opens ``/auth?callback_url=...&code_challenge=...
&code_challenge_method=S256``, is sent back to ``callback_url?code=...``, and the code
with its verifier is POSTed as JSON to ``/api/v1/auth/keys``, which answers
``{"key": ..., "user_id": ...}``. The result is a lasting API key, stored as the
openrouter credential with auth method oauth.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest

import nxuskit
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.test_oauth import LiveCli

KEY = "sk-or-v1-" + "5e" * 24


class FakeOpenRouter(ThreadingHTTPServer):
    """OpenRouter's two documented endpoints, on 127.0.0.1."""

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.challenges: dict[str, str] = {}  # code -> code_challenge
        self.exchanges: list[dict[str, object]] = []

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(BaseHTTPRequestHandler):
    server: FakeOpenRouter

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _json(self, status: int, body: object) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(parts.query).items()}
        if parts.path != "/auth" or query.get("code_challenge_method") != "S256":
            self._json(400, {"error": {"message": "bad authorization request"}})
            return
        code = secrets.token_urlsafe(16)
        self.server.challenges[code] = query["code_challenge"]
        callback = query["callback_url"]
        self.send_response(302)
        self.send_header("Location", f"{callback}{'&' if '?' in callback else '?'}code={code}")
        self.end_headers()

    def do_POST(self) -> None:
        if self.path != "/api/v1/auth/keys":
            self._json(404, {"error": {"message": "not found"}})
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.exchanges.append(body)
        challenge = self.server.challenges.pop(body.get("code", ""), None)
        verifier = body.get("code_verifier", "")
        digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        if challenge is None or digest.rstrip(b"=").decode() != challenge:
            self._json(403, {"error": {"code": 403, "message": "Invalid code or verifier"}})
            return
        self._json(200, {"key": KEY, "user_id": "user_1"})


@pytest.fixture
def openrouter(sandbox: Sandbox) -> Iterator[FakeOpenRouter]:
    server = FakeOpenRouter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    sandbox.write_config(
        "[providers.openrouter.oauth]\n"
        f'authorize_url = "{server.base}/auth"\n'
        f'token_url = "{server.base}/api/v1/auth/keys"\n'
        "allow_insecure_http = true\n"
    )
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _authorize(url: str) -> str:
    redirect = httpx2.get(url, follow_redirects=False, timeout=10)
    assert redirect.status_code == 302
    location: str = redirect.headers["location"]
    return location


def test_openrouter_login_stores_an_api_key(
    sandbox: Sandbox, daemon: Daemon, openrouter: FakeOpenRouter
) -> None:
    cli = LiveCli(sandbox, "provider", "login", "openrouter", "--no-browser")
    url = cli.line_matching(r"^http://127\.0\.0\.1:\d+/auth\?")
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"callback_url", "code_challenge", "code_challenge_method"}
    assert query["callback_url"][0].startswith("http://127.0.0.1:")
    page = httpx2.get(_authorize(url), timeout=10)
    assert page.status_code == 200
    status, out, err = cli.finish()
    assert status == 0, err
    assert "Logged in to openrouter" in out
    (exchange,) = openrouter.exchanges
    assert exchange["code_challenge_method"] == "S256"
    assert 43 <= len(str(exchange["code_verifier"])) <= 128

    resolved = nxuskit.auth_resolve("openrouter")
    assert (resolved.secret, resolved.source, resolved.auth_method) == (KEY, "oauth", "oauth")
    assert resolved.expires_at is None
    shown = run_cli(sandbox, "provider", "status", "openrouter")
    row = next(line for line in shown.stdout.splitlines() if line.startswith("openrouter"))
    assert row.split()[:3] == ["openrouter", "Authenticated", "oauth"]
    assert KEY not in shown.stdout + daemon.log() + out + err
    # an OAuth-obtained key cannot be refreshed: a rejected one means logging in again
    with pytest.raises(nxuskit.NotAuthenticated):
        nxuskit.auth_report_invalid("openrouter", KEY)


def test_openrouter_refusing_the_code_fails_the_login(
    sandbox: Sandbox, daemon: Daemon, openrouter: FakeOpenRouter
) -> None:
    cli = LiveCli(sandbox, "provider", "login", "openrouter", "--no-browser")
    url = cli.line_matching(r"^http://127\.0\.0\.1:\d+/auth\?")
    callback = _authorize(url).replace("code=", "code=x")  # not the code it issued
    page = httpx2.get(callback, timeout=10)
    assert page.status_code == 502
    status, _out, err = cli.finish()
    assert status == 11
    assert "openrouter refused the code" in err
    assert run_cli(sandbox, "provider", "status", "openrouter").returncode == 1
