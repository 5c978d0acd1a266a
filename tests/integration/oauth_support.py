"""The real parts of the OAuth tests: oidc-provider on loopback, and a scripted browser.

``run_auth_server`` (a session fixture's body) runs tests/oauth_server/server.mjs with
Node, installing its locked npm dependencies first when node_modules is missing (``make
test`` does that too). Without Node the tests skip, except in CI (CI=true), where they fail.

``Browser`` plays the user's browser with a plain HTTP client: it follows redirects,
fills oidc-provider's dev login and consent forms (any user name is accepted), and
stops at the redirect to nxuskitd's loopback callback, so a test can send it, change
it, or not send it.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import IO
from urllib.parse import urljoin, urlsplit

import httpx2
import pytest

SERVER_DIR = Path(__file__).resolve().parent.parent / "oauth_server"
SHORT_TTL = 6
REFRESH_DELAY_MS = 400


def _need(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"the OAuth tests need {reason}; CI must provide it")
    pytest.skip(f"the OAuth tests need {reason}")


def ensure_node_modules() -> str:
    """The node binary, after ``npm ci`` in tests/oauth_server when needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _need("Node.js 20.19+ and npm (apt-get install nodejs npm)")
    assert node is not None
    assert npm is not None
    if not (SERVER_DIR / "node_modules" / "oidc-provider").is_dir():
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SERVER_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _need(f"npm ci to succeed in {SERVER_DIR}: {done.stderr.strip()[-500:]}")
    return node


@dataclass
class AuthServer:
    """A running oidc-provider: its issuer URL and endpoints."""

    issuer: str
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def url(self, path: str) -> str:
        return self.issuer + path

    def stats(self) -> dict[str, object]:
        answer = httpx2.get(self.url("/_test/stats"), timeout=5)
        answer.raise_for_status()
        result: dict[str, object] = answer.json()
        return result

    def refreshes(self) -> int:
        grants = self.stats()["grants"]
        assert isinstance(grants, dict)
        return int(grants.get("refresh_token", 0))

    def userinfo(self, access_token: str) -> httpx2.Response:
        return httpx2.get(
            self.url("/me"), headers={"Authorization": f"Bearer {access_token}"}, timeout=5
        )

    def config(self, name: str = "acme", client_id: str = "nxuskit-test", **extra: str) -> str:
        """A config.toml defining provider ``name`` against this server."""
        lines = [
            f"[providers.{name}]",
            'auth_methods = ["oauth"]',
            f"[providers.{name}.oauth]",
            f'authorize_url = "{self.url("/auth")}"',
            f'token_url = "{self.url("/token")}"',
            f'client_id = "{client_id}"',
            'scopes = ["openid", "offline_access"]',
            f'device_authorization_url = "{self.url("/device/auth")}"',
            f'revocation_url = "{self.url("/token/revocation")}"',
            *(f'{key} = "{value}"' for key, value in extra.items()),
            'extra_authorize_params = { prompt = "consent" }',
            "allow_insecure_http = true  # the test server listens on loopback http",
        ]
        return "\n".join(lines) + "\n"


def _collect(stream: IO[str], into: list[str]) -> None:
    with stream:
        into.extend(stream)


def run_auth_server() -> Iterator[AuthServer]:
    """Run oidc-provider on 127.0.0.1 (ephemeral port) until the generator is closed:
    the body of a test module's session-scoped ``auth_server`` fixture."""
    node = ensure_node_modules()
    env = {
        **os.environ,
        "SHORT_TTL": str(SHORT_TTL),
        "REFRESH_DELAY_MS": str(REFRESH_DELAY_MS),
        "DEVICE_INTERVAL": "1",
        "NODE_ENV": "test",
    }
    process = subprocess.Popen(
        [node, "server.mjs"],
        cwd=SERVER_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    log: list[str] = []
    threading.Thread(target=_collect, args=(process.stderr, log), daemon=True).start()
    line = process.stdout.readline()
    if not line:
        process.wait(10)
        pytest.fail(f"the OAuth test server did not start:\n{''.join(log)}")
    server = AuthServer(json.loads(line)["issuer"], process, log)
    try:
        yield server
    finally:
        process.stdout.close()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


class _Forms(HTMLParser):
    """The forms of a page: action, and the inputs' names and values."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, dict[str, str]]] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {key: value or "" for key, value in attrs}
        if tag == "form":
            self.forms.append((values.get("action", ""), {}))
        elif tag == "input" and self.forms and values.get("name"):
            self.forms[-1][1][values["name"]] = values.get("value", "")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])


def forms_of(page: str) -> _Forms:
    parser = _Forms()
    parser.feed(page)
    return parser


class Browser:
    """A scripted user agent for oidc-provider's dev pages (cookies kept)."""

    def __init__(self, server: AuthServer, user: str = "alice") -> None:
        self.server = server
        self.user = user
        self.http = httpx2.Client(timeout=10, follow_redirects=False)

    def close(self) -> None:
        self.http.close()

    def _is_callback(self, url: str) -> bool:
        parts, ours = urlsplit(url), urlsplit(self.server.issuer)
        return parts.path == "/callback" and parts.netloc != ours.netloc

    def walk(self, response: httpx2.Response, consent: bool = True) -> str | httpx2.Response:
        """Follow redirects and forms; the callback URL once one is reached, else the
        last page (the device flow ends on the server's own success page)."""
        for _step in range(30):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if self._is_callback(target):
                    return target
                response = self.http.get(target)
                continue
            assert response.status_code == 200, (response.status_code, response.text[:500])
            page = forms_of(response.text)
            fields = page.forms[0][1] if page.forms else {}
            action = urljoin(str(response.url), page.forms[0][0]) if page.forms else ""
            if fields.get("prompt") == "login":
                response = self.http.post(
                    action, data={"prompt": "login", "login": self.user, "password": "x"}
                )
            elif fields.get("prompt") == "consent":
                if consent:
                    response = self.http.post(action, data={"prompt": "consent"})
                else:
                    abort = next(link for link in page.links if link.endswith("/abort"))
                    response = self.http.get(urljoin(str(response.url), abort))
            elif "xsrf" in fields and "confirm" in fields:  # device: confirm the code
                data = dict(fields) if consent else {**fields, "abort": "yes"}
                if not consent:
                    data.pop("confirm")
                response = self.http.post(action, data=data)
            elif "xsrf" in fields and fields.get("user_code"):  # device: auto-submitted form
                response = self.http.post(action, data=fields)
            else:
                return response
        raise AssertionError("the authorization pages did not end")

    def authorize(self, url: str, consent: bool = True) -> str:
        """Open ``url``, log in, consent (or cancel); the callback URL it redirects to."""
        result = self.walk(self.http.get(url), consent)
        assert isinstance(result, str), result.text[:500]
        return result

    def approve_device(self, verification_uri: str, user_code: str, approve: bool = True) -> str:
        """Enter ``user_code`` at the verification page and approve (or abort) it."""
        page = self.http.get(verification_uri)
        forms = forms_of(page.text)
        action, fields = forms.forms[0]
        response = self.http.post(
            urljoin(verification_uri, action), data={**fields, "user_code": user_code}
        )
        result = self.walk(response, consent=approve)
        assert not isinstance(result, str)
        return re.sub(r"<[^>]+>", " ", result.text)

    def callback(self, url: str) -> httpx2.Response:
        """Deliver the redirect to nxuskitd's loopback listener."""
        return self.http.get(url)
