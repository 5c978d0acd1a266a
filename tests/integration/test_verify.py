"""``nxuskit-cli provider verify`` against loopback stubs of each provider's endpoint
(issue 9, item 25).

Each stub answers as the provider does: its path, its way of sending the key (a bearer
token; x-api-key plus anthropic-version; x-goog-api-key; api-key), 200 for the right key,
401 or 403 for a wrong one. The CLI is pointed at a stub by the variable the provider's
SDK reads for its base URL (OPENAI_BASE_URL, ...), or by config.toml's default_host.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

import nxuskit
from tests.conftest import Daemon, Sandbox, run_cli

KEY = "sk-verify-right-7c1f0a9e"
WRONG = "sk-verify-wrong-2b8d4e6a"
EXIT_UNREACHABLE = 13


@dataclass(frozen=True)
class Endpoint:
    """How one provider checks a key: where, in which header, what it answers."""

    path: str
    header: str
    value: Callable[[str], str] = lambda key: key
    rejects_with: int = 401
    needs: tuple[tuple[str, str], ...] = ()


ENDPOINTS = {
    "openai": Endpoint("/v1/models", "Authorization", lambda key: f"Bearer {key}"),
    "claude": Endpoint("/v1/models", "x-api-key", needs=(("anthropic-version", "2023-06-01"),)),
    "gemini": Endpoint("/v1beta/models", "x-goog-api-key", rejects_with=403),
    "azure-openai": Endpoint("/openai/v1/models", "api-key"),
    "openrouter": Endpoint("/api/v1/key", "Authorization", lambda key: f"Bearer {key}"),
    "groq": Endpoint("/openai/v1/models", "Authorization", lambda key: f"Bearer {key}"),
}
# The variable each SDK reads for its base URL, and what it holds for a stub at BASE.
POINT = {
    "openai": ("OPENAI_BASE_URL", "{base}/v1"),
    "claude": ("ANTHROPIC_BASE_URL", "{base}"),
    "gemini": ("GOOGLE_GEMINI_BASE_URL", "{base}"),
    "azure-openai": ("AZURE_OPENAI_ENDPOINT", "{base}"),
    "groq": ("GROQ_BASE_URL", "{base}"),
}


class Stub(ThreadingHTTPServer):
    """One provider's endpoint on 127.0.0.1; ``requests`` records (path, headers)."""

    def __init__(self, endpoint: Endpoint, redirect_to: str | None = None) -> None:
        self.endpoint = endpoint
        self.redirect_to = redirect_to
        self.requests: list[tuple[str, Any]] = []  # (path, the case-insensitive headers)
        super().__init__(("127.0.0.1", 0), _StubHandler)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _StubHandler(BaseHTTPRequestHandler):
    server: Stub

    def do_GET(self) -> None:
        stub = self.server
        stub.requests.append((self.path, self.headers))
        if stub.redirect_to is not None:
            self._answer(302, {"Location": stub.redirect_to + self.path})
        elif self.path != stub.endpoint.path:
            self._answer(404)
        elif any(self.headers.get(name) != value for name, value in stub.endpoint.needs):
            self._answer(400)
        elif self.headers.get(stub.endpoint.header) == stub.endpoint.value(KEY):
            self._answer(200, body={"data": []})
        else:
            self._answer(stub.endpoint.rejects_with, body={"error": "invalid key"})

    def _answer(self, code: int, headers: dict[str, str] | None = None, body: Any = None) -> None:
        data = json.dumps(body or {}).encode()
        self.send_response(code)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def stubs() -> Iterator[Callable[..., Stub]]:
    started: list[Stub] = []

    def start(endpoint: Endpoint, redirect_to: str | None = None) -> Stub:
        stub = Stub(endpoint, redirect_to)
        threading.Thread(target=stub.serve_forever, daemon=True).start()
        started.append(stub)
        return stub

    try:
        yield start
    finally:
        for stub in started:
            stub.shutdown()
            stub.server_close()


def _env(provider: str, stub: Stub, key: str) -> dict[str, str]:
    spec = nxuskit.load_registry().get(provider)
    assert spec.env is not None
    variable, value = POINT[provider]
    return {spec.env: key, variable: value.format(base=stub.base)}


def _verify(sandbox: Sandbox, *args: str, env: dict[str, str]) -> Any:
    result = run_cli(sandbox, "provider", "verify", *args, env=env)
    assert KEY not in result.stdout + result.stderr
    assert WRONG not in result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize("provider", list(POINT))
def test_the_right_key_is_valid(
    sandbox: Sandbox, stubs: Callable[..., Stub], provider: str
) -> None:
    endpoint = ENDPOINTS[provider]
    stub = stubs(endpoint)
    result = _verify(sandbox, provider, env=_env(provider, stub, KEY))
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"{provider}: valid - {stub.base}{endpoint.path}: answered 200")
    ((path, headers),) = stub.requests
    assert path == endpoint.path
    assert headers.get(endpoint.header) == endpoint.value(KEY)


@pytest.mark.parametrize(("provider", "code"), [("openai", 401), ("claude", 401), ("gemini", 403)])
def test_a_wrong_key_is_rejected(
    sandbox: Sandbox, stubs: Callable[..., Stub], provider: str, code: int
) -> None:
    stub = stubs(ENDPOINTS[provider])
    spec = nxuskit.load_registry().get(provider)
    result = _verify(sandbox, provider, env=_env(provider, stub, WRONG))
    assert result.returncode == 1
    assert f"{provider}: rejected" in result.stdout
    assert f"answered {code}: the provider refuses the key from ${spec.env}" in result.stdout


def test_a_closed_port_is_unreachable(sandbox: Sandbox) -> None:
    with socket.socket() as probe:  # a port nobody listens on once this is closed
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"http://127.0.0.1:{port}/v1"}
    result = _verify(sandbox, "openai", "--timeout", "5", env=env)
    assert result.returncode == EXIT_UNREACHABLE
    assert result.stdout.strip() == (
        f"openai: unreachable - http://127.0.0.1:{port}/v1/models: Connection refused"
    )


def test_a_redirect_is_not_followed_with_the_key(
    sandbox: Sandbox, stubs: Callable[..., Stub]
) -> None:
    elsewhere = stubs(ENDPOINTS["openai"])
    stub = stubs(ENDPOINTS["openai"], redirect_to=elsewhere.base)
    result = _verify(sandbox, "openai", env=_env("openai", stub, KEY))
    assert result.returncode == EXIT_UNREACHABLE
    assert "openai: unexpected" in result.stdout
    assert "answered HTTP 302" in result.stdout
    assert elsewhere.requests == []


def test_json_and_a_wrong_base_url(sandbox: Sandbox, stubs: Callable[..., Stub]) -> None:
    stub = stubs(ENDPOINTS["openai"])
    env = {"OPENAI_API_KEY": KEY, "OPENAI_BASE_URL": f"{stub.base}/wrong"}
    result = _verify(sandbox, "openai", "--json", env=env)
    assert result.returncode == EXIT_UNREACHABLE
    (outcome,) = json.loads(result.stdout)
    assert outcome == {
        "provider": "openai",
        "status": "unexpected",
        "url": f"{stub.base}/wrong/models",
        "http_status": 404,
        "source": "env",
        "detail": "answered HTTP 404, not 2xx, 401 or 403: is the base URL right?",
    }


def test_azure_without_its_endpoint_says_which_variable(sandbox: Sandbox) -> None:
    result = _verify(sandbox, "azure-openai", env={"AZURE_OPENAI_API_KEY": KEY})
    assert result.returncode == EXIT_UNREACHABLE
    assert "no server: set AZURE_OPENAI_ENDPOINT to its URL" in result.stdout


def test_every_stored_key_through_the_daemon(
    sandbox: Sandbox, daemon: Daemon, stubs: Callable[..., Stub]
) -> None:
    groq = stubs(ENDPOINTS["groq"])
    openrouter = stubs(ENDPOINTS["openrouter"])
    sandbox.write_config(f'[providers.openrouter]\ndefault_host = "{openrouter.base}/api/v1"\n')
    nxuskit.auth_set_credential("groq", KEY)
    nxuskit.auth_set_credential("openrouter", WRONG)
    env = {"GROQ_BASE_URL": groq.base}
    result = _verify(sandbox, env=env)  # no PROVIDER: every authenticated one
    assert result.returncode == 1  # one was rejected
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith(f"groq: valid - {groq.base}/openai/v1/models")
    assert "the store" in lines[0]
    assert lines[1].startswith(f"openrouter: rejected - {openrouter.base}/api/v1/key")
    assert "nxuskit-cli provider set openrouter" in lines[1]
    assert len(lines) == 2


def test_nothing_to_verify(sandbox: Sandbox, daemon: Daemon) -> None:
    result = _verify(sandbox, env={})
    assert result.returncode == 0
    assert result.stdout.strip() == "No provider has a credential to verify."
    missing = _verify(sandbox, "groq", env={})
    assert missing.returncode == 1
    assert "no credential for groq" in missing.stderr


def test_a_key_with_a_line_break_is_not_echoed(
    sandbox: Sandbox, stubs: Callable[..., Stub]
) -> None:
    stub = stubs(ENDPOINTS["openai"])
    result = _verify(sandbox, "openai", env=_env("openai", stub, KEY + "\nX-Injected: 1"))
    assert result.returncode == EXIT_UNREACHABLE
    assert "cannot be sent as an HTTP header" in result.stdout
    assert stub.requests == []
