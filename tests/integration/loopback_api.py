"""A provider's API on loopback for the auth-adapter tests: it records every request and
answers 200 or 401 as the test's rule says, so a test can rotate the credential it accepts.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Seen:
    """One request as the API received it (header names in lower case)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def credential(self) -> str | None:
        """The key or token the request carried, in whichever header it came."""
        authorization = self.headers.get("authorization", "")
        if authorization.startswith("Bearer "):
            return authorization.removeprefix("Bearer ")
        for name in ("x-api-key", "x-goog-api-key", "api-key"):
            if name in self.headers:
                return self.headers[name]
        return None


@dataclass
class LoopbackApi:
    """``accepts(seen)`` decides each answer: True is 200, False is 401. ``redirect``
    maps a path to the URL a request for it is sent on to (302)."""

    url: str
    accepts: Callable[[Seen], bool]
    seen: list[Seen] = field(default_factory=list)
    redirect: dict[str, str] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def credentials(self) -> list[str | None]:
        with self.lock:
            return [request.credential() for request in self.seen]


def _handler(api: LoopbackApi) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {name.lower(): value for name, value in self.headers.items()}
            seen = Seen(self.command, self.path, headers, body)
            with api.lock:
                api.seen.append(seen)
            target = api.redirect.get(self.path)
            if target is not None:
                self._send(302, b"", {"Location": target})
            elif api.accepts(seen):
                self._send(200, b'{"ok": true}', {"Content-Type": "application/json"})
            else:
                self._send(401, b'{"error": "invalid credential"}', {})

        def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass  # keep the test output to the test's own

    return Handler


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops a burst of concurrent clients


@contextmanager
def loopback_api(accepts: Callable[[Seen], bool]) -> Iterator[LoopbackApi]:
    """Serve a LoopbackApi on 127.0.0.1 (an ephemeral port) for the block."""
    api = LoopbackApi("", accepts)
    server = _Server(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
