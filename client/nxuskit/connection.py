"""One verified JSON-RPC connection to nxuskitd's Unix socket (blocking, stdlib only).

``open_connection(path, timeout)`` checks the socket's directory, connects, checks with
the kernel that the daemon at the other end is this user's (``nxuskit.trust``), and says
``daemon.hello``; only then is anything else sent. ``Connection.call`` sends one request
and returns its result or raises the matching NxuskitError. Reuse, reconnection, fork
safety and starting the daemon are the ``Channel``'s business (``nxuskit.channel``).
"""

from __future__ import annotations

import json
import os
import socket
import struct

from nxuskit import protocol, trust
from nxuskit.errors import (
    DaemonNotAnswering,
    DaemonNotRunning,
    DaemonUnavailable,
    ProtocolError,
    VersionMismatch,
    error_from_wire,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, NoReturn


class Closed(Exception):
    """The daemon closed the connection before answering (it may or may not have run the
    request: only methods in ``protocol.RETRY_SAFE`` are sent again)."""


NotRunning = DaemonNotRunning
"""Nothing listens at the socket path (no file there, or nobody behind it)."""


class Connection:
    """A connected, verified socket to the daemon (not thread-safe by itself)."""

    def __init__(self, path: str, timeout: float) -> None:
        self.path = path
        directory = os.path.dirname(path) or "/"
        if not os.path.lexists(directory):
            trust.check_directory_chain(directory)
            raise NotRunning(f"no nxuskitd is running at {path}")
        trust.check_socket_directory(directory)
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            try:
                self._sock.connect(path)
            except (FileNotFoundError, ConnectionRefusedError):
                raise NotRunning(f"no nxuskitd is running at {path}") from None
            except TimeoutError:  # its queue of connections waiting to be accepted is full
                raise DaemonNotAnswering(
                    f"nxuskitd at {path} did not accept the connection in time (stopped or "
                    "hung?); check it with: nxuskit-cli daemon status"
                ) from None
            except OSError as exc:
                raise unavailable(path, exc) from None
            trust.check_peer(self._sock, path)
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
        """Send one request and wait for its answer.

        Raises Closed (the daemon went away first), DaemonUnavailable (no answer within
        the timeout), the error the daemon answered with, or ProtocolError.
        """
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
            raise Closed from exc
        except (BlockingIOError, TimeoutError):  # SO_SNDTIMEO: the daemon reads nothing
            self._timed_out(method)
        try:
            reply = self._read_line()
        except (BrokenPipeError, ConnectionResetError) as exc:
            raise Closed from exc
        except (BlockingIOError, TimeoutError):  # SO_RCVTIMEO expired
            self._timed_out(method)
        if not reply:
            raise Closed
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
        raise DaemonNotAnswering(
            f"nxuskitd at {self.path} did not answer {method} in time (stopped or hung?); "
            "check it with: nxuskit-cli daemon status (NXUSKIT_TIMEOUT sets the wait)"
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

    def stale(self) -> bool:
        """True when the daemon has closed this connection (or sent something unasked)
        while it sat idle: checked before sending a request that must not run twice."""
        try:
            data = self._sock.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        del data  # end of stream, or bytes nobody asked for: either way, start afresh
        return True

    def hello(self) -> dict[str, Any]:
        """Check that the daemon speaks a protocol this client understands; its answer."""
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
        return info  # type: ignore[no-any-return]

    def close(self) -> None:
        """Close the connection (idempotent)."""
        self._sock.close()


def open_connection(path: str, timeout: float) -> Connection:
    """A verified connection to the daemon at ``path``, hello said.

    Raises NotRunning (nothing there: the caller may start a daemon), PermissionDenied
    (the socket's directory or the daemon is not this user's: nothing was sent),
    DaemonUnavailable, VersionMismatch.
    """
    conn = Connection(path, timeout)
    try:
        conn.hello()
    except Closed:
        conn.close()
        raise DaemonUnavailable(
            f"nxuskitd at {path} closed the connection at once; see its log"
        ) from None
    except BaseException:
        conn.close()
        raise
    return conn


def unavailable(path: str, exc: OSError) -> DaemonUnavailable:
    """The DaemonUnavailable for an OS error met while talking to ``path``."""
    if isinstance(exc, PermissionError):
        return DaemonUnavailable(
            f"cannot connect to {path}: permission denied (is it another user's daemon?)"
        )
    return DaemonUnavailable(f"cannot connect to nxuskitd at {path}: {exc.strerror or exc}")
