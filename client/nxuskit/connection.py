"""The client's side of the socket: one blocking connection per process, reused.

``call(method, params)`` sends one JSON-RPC request and returns its result or raises the
matching NxuskitError. The connection is opened on first use (starting the daemon when
it is absent, see ``autostart``), checked with ``daemon.hello``, kept for later calls,
re-opened once when the daemon went away between calls, and never shared across a fork.
"""

from __future__ import annotations

import _thread
import json
import os
import socket
import struct

from nxuskit import paths, protocol
from nxuskit.errors import (
    DaemonUnavailable,
    NxuskitError,
    ProtocolError,
    VersionMismatch,
    error_from_wire,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn

DEFAULT_TIMEOUT = 30.0


class _Closed(Exception):
    """The daemon closed the connection before answering."""


class Connection:
    """One JSON-RPC connection to the daemon's Unix socket (not thread-safe by itself)."""

    def __init__(self, path: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(path)
            # From here on the socket blocks, with the timeout kept by the kernel
            # (SO_RCVTIMEO/SO_SNDTIMEO): Python's own timeout would add a poll() per call.
            self._sock.settimeout(None)
            whole = int(timeout)
            limit = struct.pack("ll", whole, int((timeout - whole) * 1_000_000))
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        except BaseException:
            self._sock.close()
            raise
        self._buffer = bytearray()
        self._next_id = 0

    def _read_line(self) -> bytes:
        """The next answer line (newline included); b"" once the daemon closed."""
        buffer = self._buffer
        while True:
            end = buffer.find(b"\n")
            if end >= 0:
                line = bytes(buffer[: end + 1])
                del buffer[: end + 1]
                return line
            if len(buffer) > protocol.MAX_ANSWER_BYTES:
                raise ProtocolError("the daemon sent an answer over the size limit")
            chunk = self._sock.recv(65536)
            if not chunk:
                return b""
            buffer += chunk

    def call(self, method: str, params: dict[str, Any]) -> Any:
        """Send one request and wait for its answer."""
        self._next_id += 1
        request = {"jsonrpc": "2.0", "id": self._next_id, "method": method, "params": params}
        line = json.dumps(request, separators=(",", ":")).encode() + b"\n"
        try:
            self._sock.sendall(line)
        except (BrokenPipeError, ConnectionResetError) as exc:
            # The daemon may have refused us (busy, wrong uid) and closed before our write:
            # its one-line explanation can still be waiting to be read.
            reply = self._pending_line()
            if reply:
                self._raise_refusal(reply)
            raise _Closed from exc
        except (BlockingIOError, TimeoutError):  # SO_SNDTIMEO: the daemon reads nothing
            self._timed_out(method)
        try:
            reply = self._read_line()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise _Closed from exc
        except (BlockingIOError, TimeoutError):  # SO_RCVTIMEO expired
            self._timed_out(method)
        if not reply:
            raise _Closed
        try:
            message = json.loads(reply)
        except ValueError:
            raise ProtocolError("the daemon sent a line that is not JSON") from None
        if not isinstance(message, dict) or message.get("id") != self._next_id:
            error = message.get("error") if isinstance(message, dict) else None
            if error is not None:  # an answer with id null: the daemon refused the connection
                raise error_from_wire(error)
            raise ProtocolError("the daemon answered a different request")
        if "error" in message:
            raise error_from_wire(message["error"])
        return message.get("result")

    def _timed_out(self, method: str) -> NoReturn:
        self.close()
        raise DaemonUnavailable(
            f"nxuskitd at {self.path} did not answer {method} in time; "
            "check it with: nxuskit-cli daemon status"
        ) from None

    def _pending_line(self) -> bytes:
        try:
            return self._read_line()
        except (OSError, ProtocolError):
            return b""

    @staticmethod
    def _raise_refusal(reply: bytes) -> None:
        try:
            message = json.loads(reply)
        except ValueError:
            return
        if isinstance(message, dict) and message.get("error") is not None:
            raise error_from_wire(message["error"])

    def hello(self) -> None:
        """Check that the daemon speaks a protocol this client understands."""
        try:
            info = self.call(protocol.HELLO, {"protocol": protocol.PROTOCOL_VERSION})
        except ProtocolError:
            raise VersionMismatch(
                f"the daemon at {self.path} does not speak nxuskit protocol "
                f"{protocol.PROTOCOL_VERSION}: restart it to run the installed version"
            ) from None
        version = info.get("protocol") if isinstance(info, dict) else None
        if not isinstance(version, int) or version < protocol.MIN_PROTOCOL_VERSION:
            raise VersionMismatch(
                f"the daemon at {self.path} speaks protocol {version}, this client needs "
                f"{protocol.MIN_PROTOCOL_VERSION} or newer: restart nxuskitd to run the "
                "installed version"
            )

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._sock.close()


def open_connection(path: str | None = None) -> Connection:
    """Connect to the daemon (starting it when absent and allowed) and say hello."""
    path = path or paths.socket_path()
    try:
        conn = Connection(path)
    except OSError as exc:
        if not isinstance(exc, (FileNotFoundError, ConnectionRefusedError)):
            raise _unavailable(path, exc) from None
        from nxuskit import autostart

        if not autostart.enabled():
            raise DaemonUnavailable(
                f"no nxuskitd is running at {path}: start it with `nxuskitd` (or "
                "`nxuskit-cli daemon install` for a service), or unset NXUSKIT_AUTOSTART to let "
                "clients start it"
            ) from None
        autostart.start_daemon(path)
        try:
            conn = Connection(path)
        except OSError as again:
            raise _unavailable(path, again) from None
    try:
        conn.hello()
    except _Closed:
        conn.close()
        raise DaemonUnavailable(
            f"nxuskitd at {path} closed the connection at once; see its log"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def _unavailable(path: str, exc: OSError) -> DaemonUnavailable:
    if isinstance(exc, PermissionError):
        return DaemonUnavailable(
            f"cannot connect to {path}: permission denied (is it another user's daemon?)"
        )
    return DaemonUnavailable(f"cannot connect to nxuskitd at {path}: {exc.strerror or exc}")


_lock = _thread.allocate_lock()
_shared: tuple[str, Connection] | None = None


def _drop_after_fork() -> None:
    global _lock, _shared  # noqa: PLW0603 - the child must not share the parent's socket
    _lock = _thread.allocate_lock()
    _shared = None


os.register_at_fork(after_in_child=_drop_after_fork)


def call(method: str, params: dict[str, Any]) -> Any:
    """Call ``method`` on the daemon over this process's shared connection."""
    global _shared  # noqa: PLW0603 - one connection per process, by design
    path = paths.socket_path()
    with _lock:
        for attempt in (1, 2):
            if _shared is not None and _shared[0] != path:
                _shared[1].close()
                _shared = None
            if _shared is None:
                _shared = (path, open_connection(path))
            conn = _shared[1]
            try:
                return conn.call(method, params)
            except _Closed:
                # The daemon restarted or dropped an idle connection: every method is
                # idempotent, so sending the request once more on a new connection is safe.
                conn.close()
                _shared = None
                if attempt == 2:
                    raise DaemonUnavailable(
                        f"nxuskitd at {path} closed the connection; see its log"
                    ) from None
            except NxuskitError:
                raise
            except OSError as exc:
                conn.close()
                _shared = None
                raise _unavailable(path, exc) from None
    raise AssertionError("unreachable")


def reset() -> None:
    """Close this process's shared connection (the next call opens a new one)."""
    global _shared  # noqa: PLW0603
    with _lock:
        if _shared is not None:
            _shared[1].close()
            _shared = None
