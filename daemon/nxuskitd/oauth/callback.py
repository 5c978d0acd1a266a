"""The loopback listener that receives the authorization server's redirect.

One listener per login, on 127.0.0.1 with an ephemeral port (``redirect_host =
"localhost"`` also listens on ::1, same port). It answers ``GET /callback`` by handing
the query to the login, and any other path with 404, so a favicon request does not end
the login. Requests are read with a size cap and a timeout, each connection in its own
task; the listener closes as soon as the login says it is finished. Nothing about a
request (its query holds the code and state) is logged.
"""

from __future__ import annotations

import contextlib
import errno
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import Listener, SocketAttribute, SocketStream
from anyio.streams.stapled import MultiListener

from nxuskitd.oauth import pages

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
MAX_HEAD = 8 * 1024
READ_TIMEOUT = 10.0
MAX_CONNECTIONS = 32
"""Open connections one listener serves at once; more are closed unanswered (other local
users can reach a loopback port, and must not exhaust the daemon's descriptors)."""
SEND_TIMEOUT = 10.0

CallbackHandler = Callable[[dict[str, str]], Awaitable[tuple[int, str, str, bool]]]
"""Gets the callback's query parameters; returns (HTTP status, page title, page text,
whether the login is over: the listener closes once that answer is sent)."""


class BadRequest(Exception):
    """The request cannot be read as a plain HTTP GET."""


class CallbackListener:
    """Sockets bound for one login's redirect; ``redirect_uri`` names them."""

    def __init__(self, listener: Listener[SocketStream], host: str, port: int) -> None:
        self._listener = listener
        self.host = host
        self.port = port

    @property
    def redirect_uri(self) -> str:
        """``http://HOST:PORT/callback``, the redirect URI registered for this login."""
        return f"http://{self.host}:{self.port}{CALLBACK_PATH}"

    async def aclose(self) -> None:
        """Stop listening (idempotent)."""
        await self._listener.aclose()

    async def serve(self, handle: CallbackHandler, finished: anyio.Event) -> None:
        """Answer requests until ``finished`` is set (or the caller is cancelled)."""

        active = 0

        async def one(stream: SocketStream) -> None:
            nonlocal active
            async with stream:
                if active >= MAX_CONNECTIONS:
                    return
                active += 1
                try:
                    if await _answer(stream, handle):
                        finished.set()
                except (TimeoutError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
                    pass  # a browser's idle pre-connection, or a client that went away
                finally:
                    active -= 1

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._listener.serve, one)
                await finished.wait()
                tasks.cancel_scope.cancel()
        finally:
            with anyio.CancelScope(shield=True):
                await self.aclose()


async def open_callback_listener(redirect_host: str) -> CallbackListener:
    """Bind 127.0.0.1 (and ::1 too for "localhost") on one free ephemeral port."""
    for _attempt in range(8):
        first = await anyio.create_tcp_listener(local_host="127.0.0.1", local_port=0)
        port = int(first.extra(SocketAttribute.local_port))
        if redirect_host != "localhost":
            return CallbackListener(first, "127.0.0.1", port)
        try:
            second = await anyio.create_tcp_listener(local_host="::1", local_port=port)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:  # ::1 has that port taken: try another
                await first.aclose()
                continue
            log.debug("no IPv6 loopback here; the login listens on 127.0.0.1 only")
            return CallbackListener(first, "localhost", port)
        return CallbackListener(MultiListener([first, second]), "localhost", port)
    raise OSError(errno.EADDRINUSE, "no free loopback port for the login callback")


async def _read_head(stream: SocketStream) -> bytes:
    data = b""
    with anyio.fail_after(READ_TIMEOUT):
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            if len(data) > MAX_HEAD:
                raise BadRequest("request head too large")
            data += await stream.receive(4096)
    return data


def _parse(head: bytes) -> tuple[str, str, str]:
    """(method, path, query) of a request head."""
    try:
        request_line = head.split(b"\n", 1)[0].decode("ascii").strip()
        method, target, version = request_line.split(" ")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1.") or not target.startswith("/"):
        raise BadRequest("not an HTTP/1 origin-form request")
    parts = urlsplit(target)
    return method, parts.path, parts.query


async def _answer(stream: SocketStream, handle: CallbackHandler) -> bool:
    """Answer one request; True when it ended the login."""
    try:
        method, path, query = _parse(await _read_head(stream))
    except BadRequest:
        answer = pages.response(HTTPStatus.BAD_REQUEST, "Bad request", "Not a login callback.")
        await _send(stream, answer)
        return False
    if path != CALLBACK_PATH:
        await _send(stream, pages.not_found())
        return False
    if method != "GET":
        status = HTTPStatus.METHOD_NOT_ALLOWED
        await _send(stream, pages.response(status, "Method not allowed", "Use GET."))
        return False
    try:
        parsed = parse_qs(query, keep_blank_values=True, max_num_fields=32)
    except ValueError:
        parsed = {}
    if any(len(values) != 1 for values in parsed.values()):
        status = HTTPStatus.BAD_REQUEST
        await _send(stream, pages.response(status, "Bad request", "A parameter is repeated."))
        return False
    code, title, message, final = await handle({k: v[0] for k, v in parsed.items()})
    # A browser that left does not change the login's outcome.
    with contextlib.suppress(TimeoutError, anyio.BrokenResourceError, OSError):
        await _send(stream, pages.response(code, title, message))
    return final


async def _send(stream: SocketStream, data: bytes) -> None:
    with anyio.fail_after(SEND_TIMEOUT):
        await stream.send(data)
