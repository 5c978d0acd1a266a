"""A tiny raw JSON-RPC client for integration tests: connect, send a line, read a line.

Deliberately independent of the ``nxuskit`` client library, so tests can send what a
well-behaved client never would (garbage, half lines, 4 MiB lines) and see exactly
what the daemon answers.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path
from types import TracebackType
from typing import Any


class Wire:
    """One raw connection to a daemon's Unix socket."""

    def __init__(self, path: Path | str, timeout: float = 5.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout)
        try:
            self.sock.connect(str(path))
        except BaseException:
            self.sock.close()
            raise
        self._buffer = b""
        self._next_id = 0

    def __enter__(self) -> Wire:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        """Send raw bytes as they are (no newline added)."""
        self.sock.sendall(data)

    def send_json(self, message: object) -> None:
        """Send one compact JSON line."""
        self.send(json.dumps(message, separators=(",", ":")).encode() + b"\n")

    def read_line(self, timeout: float | None = None) -> bytes:
        """The next line without its newline; b"" at the end of the stream.

        A connection reset after the daemon closed counts as the end of the stream.
        """
        if timeout is not None:
            self.sock.settimeout(timeout)
        while b"\n" not in self._buffer:
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                rest, self._buffer = self._buffer, b""
                return rest
            self._buffer += chunk
        line, _, self._buffer = self._buffer.partition(b"\n")
        return line

    def read_json(self, timeout: float | None = None) -> Any:
        line = self.read_line(timeout)
        assert line, "the daemon closed the connection without answering"
        return json.loads(line)

    def request(self, method: str, params: object = None, request_id: object = ...) -> Any:
        """Send one request and return the daemon's answer (the whole response object)."""
        if request_id is ...:
            self._next_id += 1
            request_id = self._next_id
        message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
        if params is not None:
            message["params"] = params
        self.send_json(message)
        return self.read_json()

    def closed_by_peer(self, timeout: float = 5.0) -> bool:
        """True when the daemon closes the connection within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except ConnectionResetError:
                return True
            except TimeoutError:
                return False
            if not chunk:
                return True
            self._buffer += chunk


def connect(path: Path | str, timeout: float = 5.0) -> Wire:
    """A raw connection to the daemon at ``path``."""
    return Wire(path, timeout)


def error_kind(response: Any) -> str | None:
    """``error.data.kind`` of a response, or None when it is not an error."""
    error = response.get("error") if isinstance(response, dict) else None
    if not isinstance(error, dict):
        return None
    data = error.get("data")
    return data.get("kind") if isinstance(data, dict) else None
