"""One verified, pipelined JSON-RPC connection to nxuskitd on an asyncio event loop.

``open_connection(path, timeout)`` runs the blocking client's checks in the same order
(``nxuskit.connection``): the socket's directory chain and private directory, connect,
the kernel's word on the peer's uid (``nxuskit.trust``), then ``daemon.hello``; nothing
else is sent before hello is answered. ``Connection.call`` writes one request line and
awaits the answer that carries its id, so any number of tasks may wait at once. The
daemon answers a connection's lines in order, but the ids, not the order, decide which
task gets which answer: a task cancelled or timed out while waiting leaves its answer to
be dropped when it comes, and every other task still gets its own.

Each request line is handed to the transport whole (``Transport.write`` never writes
part of a line and returns), so a cancellation can never cut a line in two. Lines
written in one pass of the loop go out in one system call.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket

from nxuskit import protocol, trust
from nxuskit.connection import Closed, NotRunning, unavailable
from nxuskit.errors import (
    DaemonNotAnswering,
    DaemonUnavailable,
    ProtocolError,
    VersionMismatch,
    error_from_wire,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

_HELLO_ID = 0  # the calls after hello count from 1


def _line(ident: int, method: str, params: dict[str, Any]) -> bytes:
    request = {"jsonrpc": "2.0", "id": ident, "method": method, "params": params}
    return json.dumps(request, separators=(",", ":")).encode() + b"\n"


def _decode(line: bytes | bytearray) -> dict[str, Any]:
    try:
        message = json.loads(line)
    except ValueError:
        raise ProtocolError("the daemon sent a line that is not JSON") from None
    if not isinstance(message, dict):
        raise ProtocolError("the daemon sent a line that is not a JSON-RPC answer")
    return message


def _closed_here() -> DaemonUnavailable:
    return DaemonUnavailable("the connection to nxuskitd was closed by this client (aclose)")


def _timed_out(path: str, method: str) -> DaemonNotAnswering:
    return DaemonNotAnswering(
        f"nxuskitd at {path} did not answer {method} in time (stopped or hung?); "
        "check it with: nxuskit-cli daemon status (NXUSKIT_TIMEOUT sets the wait)"
    )


class Connection(asyncio.Protocol):
    """A connected, verified socket to the daemon, shared by every task of one loop."""

    def __init__(self, path: str, timeout: float, sock: socket.socket, rest: bytes) -> None:
        self.path = path
        self.timeout = timeout
        self.loop = asyncio.get_running_loop()
        self._sock = sock
        self._buffer = bytearray(rest)
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._next_id = _HELLO_ID
        self._outgoing: list[bytes] = []
        self._transport: asyncio.Transport | None = None
        self._failure: Callable[[], Exception] | None = None
        self.ended = asyncio.Event()
        """Set once the connection can carry no more requests."""

    # -- asyncio.Protocol ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # A stream transport (uvloop's are not subclasses of asyncio.Transport: no isinstance).
        self._transport = transport  # type: ignore[assignment]
        if self._buffer:  # answers that came in with hello's: read them like any others
            self.data_received(b"")

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        start = 0
        while self._failure is None:
            end = buffer.find(b"\n", start)
            if end < 0:
                break
            self._answer(buffer[start:end])
            start = end + 1
        del buffer[:start]
        if len(buffer) > protocol.MAX_ANSWER_BYTES:
            self._abort(lambda: ProtocolError("the daemon sent an answer over the size limit"))

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(Closed)

    # -- answers -------------------------------------------------------------------------

    def _answer(self, line: bytearray) -> None:
        try:
            message = _decode(line)
        except ProtocolError as error:
            reason = error.message
            self._abort(lambda: ProtocolError(reason))
            return
        ident = message.get("id")
        future = self._waiting.pop(ident, None) if type(ident) is int else None
        if future is None:
            if ident is None and message.get("error") is not None:
                # An answer with id null: the daemon refuses this connection.
                self._abort(lambda: error_from_wire(message["error"]))
            elif not (type(ident) is int and 0 < ident <= self._next_id):
                self._abort(lambda: ProtocolError("the daemon answered a request never sent"))
            return  # the answer to a request whose caller stopped waiting
        if future.done():
            return  # cancelled a moment ago: its task has not run its cleanup yet
        if "error" in message:
            future.set_exception(error_from_wire(message["error"]))
        else:
            future.set_result(message.get("result"))

    def _fail(self, error: Callable[[], Exception]) -> None:
        """Every waiting call raises a fresh ``error()``; later calls too."""
        if self._failure is None:
            self._failure = error
            self.ended.set()
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(error())

    def _abort(self, error: Callable[[], Exception]) -> None:
        self._fail(error)
        self.close()

    # -- requests ------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """True once the connection can carry no more requests."""
        return self._failure is not None

    def stale(self) -> bool:
        """True when nothing is awaited and the daemon has closed this connection (or sent
        something unasked) while it sat idle: checked before sending a request that must
        not run twice, as the blocking client does (``nxuskit.connection``)."""
        if self._failure is not None:
            return True
        if self._waiting:
            return False  # answers are due: their bytes say nothing about staleness
        try:
            self._sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        return True

    async def call(self, method: str, params: dict[str, Any]) -> Any:
        """Send one request and await its answer.

        Raises Closed (the connection ended first), DaemonUnavailable (no answer within
        the timeout), the error the daemon answered with, or ProtocolError.
        """
        if self._failure is not None:
            raise self._failure()
        self._next_id += 1
        ident = self._next_id
        future: asyncio.Future[Any] = self.loop.create_future()
        self._waiting[ident] = future
        self._send(_line(ident, method, params))
        try:
            async with asyncio.timeout(self.timeout):
                return await future
        except TimeoutError:
            raise _timed_out(self.path, method) from None
        finally:
            self._waiting.pop(ident, None)

    def _send(self, line: bytes) -> None:
        self._outgoing.append(line)
        if len(self._outgoing) == 1:
            self.loop.call_soon(self._flush)

    def _flush(self) -> None:
        lines, self._outgoing = self._outgoing, []
        if self._transport is not None and self._failure is None:
            self._transport.write(b"".join(lines))

    def close(self) -> None:
        """Close the connection (idempotent); calls still waiting raise DaemonUnavailable."""
        self._fail(_closed_here)
        if self._transport is not None:
            self._transport.close()
        else:
            self._sock.close()

    def abandon(self) -> None:
        """Close the socket of a connection whose loop is gone (closed, or in a forked
        parent), without touching that loop."""
        self._failure = self._failure or Closed
        self._waiting = {}
        self._sock.close()


async def _read_line(loop: asyncio.AbstractEventLoop, sock: socket.socket) -> tuple[bytes, bytes]:
    """The first line from ``sock`` and what came after it; (b"", b"") once it closed."""
    buffer = bytearray()
    while (end := buffer.find(b"\n")) < 0:
        if len(buffer) > protocol.MAX_ANSWER_BYTES:
            raise ProtocolError("the daemon sent an answer over the size limit")
        try:
            chunk = await loop.sock_recv(sock, 65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return b"", b""
        buffer += chunk
    return bytes(buffer[:end]), bytes(buffer[end + 1 :])


def _hello_result(message: dict[str, Any]) -> Any:
    if message.get("id") != _HELLO_ID:
        if message.get("error") is not None:  # id null: the daemon refuses this connection
            raise error_from_wire(message["error"])
        raise ProtocolError("the daemon answered a different request")
    if "error" in message:
        raise error_from_wire(message["error"])
    return message.get("result")


async def _hello(loop: asyncio.AbstractEventLoop, sock: socket.socket, path: str) -> bytes:
    """Say hello and check the daemon's protocol; the bytes that came after its answer."""
    # The daemon may have refused us and closed: its reason is still there to be read.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        await loop.sock_sendall(sock, _line(_HELLO_ID, protocol.HELLO, _HELLO_PARAMS))
    line, rest = await _read_line(loop, sock)
    if not line:
        raise DaemonUnavailable(f"nxuskitd at {path} closed the connection at once; see its log")
    try:
        info = _hello_result(_decode(line))
    except ProtocolError:  # no such method, or no JSON-RPC at all: not our daemon's protocol
        raise VersionMismatch(
            f"the daemon at {path} does not speak nxuskit protocol "
            f"{protocol.PROTOCOL_VERSION}: restart it to run the installed version"
        ) from None
    version = info.get("protocol") if isinstance(info, dict) else None
    if not isinstance(version, int) or version < protocol.MIN_PROTOCOL_VERSION:
        raise VersionMismatch(
            f"the daemon at {path} speaks protocol {version}, this client needs "
            f"{protocol.MIN_PROTOCOL_VERSION} or newer: restart nxuskitd to run the "
            "installed version"
        )
    return rest


_HELLO_PARAMS = {"protocol": protocol.PROTOCOL_VERSION}


async def _connect(loop: asyncio.AbstractEventLoop, sock: socket.socket, path: str) -> bytes:
    try:
        await loop.sock_connect(sock, path)
    except (FileNotFoundError, ConnectionRefusedError):
        raise NotRunning(f"no nxuskitd is running at {path}") from None
    except OSError as exc:
        raise unavailable(path, exc) from None
    trust.check_peer(sock, path)  # before anything is sent
    return await _hello(loop, sock, path)


async def open_connection(path: str, timeout: float) -> Connection:
    """A verified connection to the daemon at ``path``, hello said, on the running loop.

    Raises NotRunning (nothing there: the caller may start a daemon), PermissionDenied
    (the socket's directory or the daemon is not this user's: nothing was sent),
    DaemonUnavailable, VersionMismatch.
    """
    directory = os.path.dirname(path) or "/"
    if not os.path.lexists(directory):
        trust.check_directory_chain(directory)
        raise NotRunning(f"no nxuskitd is running at {path}")
    trust.check_socket_directory(directory)
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.setblocking(False)
        try:
            async with asyncio.timeout(timeout):
                rest = await _connect(loop, sock, path)
        except TimeoutError:
            raise _timed_out(path, protocol.HELLO) from None
        conn = Connection(path, timeout, sock, rest)
        await loop.create_unix_connection(lambda: conn, sock=sock)
    except BaseException:
        sock.close()
        raise
    return conn
