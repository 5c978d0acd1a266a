"""The loopback listener that receives the authorization server's redirect.

One listener per login, on 127.0.0.1 with an ephemeral port (``redirect_host =
"localhost"`` also listens on ::1, same port); it closes as soon as the login is over
(finished, failed, timed out or cancelled), so nothing listens between logins. It
answers ``GET /callback`` by handing the query to the login, and any other path with
404, so a favicon request does not end the login. Nothing about a request (its query
holds the code and state) is logged.

Other local users can reach a loopback port, so the listener assumes some requests are
hostile:

- The ``Host`` header must name the redirect's own host and port (or, for
  ``localhost``, a loopback literal on that port): a web page that rebinds its DNS name
  to 127.0.0.1 cannot reach the callback through the user's browser. Any other host
  gets 400, and the login goes on.
- At most ``MAX_CONNECTIONS`` connections are open at once, but holding them does not
  lock the browser out. A request head must arrive within ``HEAD_TIMEOUT`` seconds,
  and when every slot is taken a newcomer does not wait: the oldest connection that
  has sent nothing yet (else the oldest still sending its head) is closed to make room.
  A browser sends its request as soon as it connects, so its connection is never the
  oldest idle one; an attacker's idle connections are. Only connections whose request
  is being answered keep their slot.
- Refusals are logged rate-limited (``nxuskitd.ratelimit``), never one line each.
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
from nxuskitd.oauth.http import clean
from nxuskitd.ratelimit import RateLimitedLog

log = logging.getLogger(__name__)

CALLBACK_PATH = "/callback"
MAX_HEAD = 8 * 1024
HEAD_TIMEOUT = 2.0
"""Seconds a connection has to send its whole request head (a browser needs a moment)."""
MAX_CONNECTIONS = 32
"""Connections one listener keeps open at once (other local users must not exhaust the
daemon's descriptors); a newcomer replaces the oldest idle one."""
SEND_TIMEOUT = 2.0
REFUSAL_LOG_INTERVAL = 60.0
"""Refused callback requests of one kind are logged at most once per this many seconds."""

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
        names = [host] if host != "localhost" else [host, "127.0.0.1", "[::1]"]
        self.hosts = frozenset(f"{name}:{port}" for name in names)
        """The ``Host`` header values a callback may carry."""
        self.refusals = RateLimitedLog(log, REFUSAL_LOG_INTERVAL)

    @property
    def redirect_uri(self) -> str:
        """``http://HOST:PORT/callback``, the redirect URI registered for this login."""
        return f"http://{self.host}:{self.port}{CALLBACK_PATH}"

    async def aclose(self) -> None:
        """Stop listening (idempotent)."""
        await self._listener.aclose()

    async def serve(self, handle: CallbackHandler, finished: anyio.Event) -> None:
        """Answer requests until ``finished`` is set (or the caller is cancelled)."""
        slots: dict[_Slot, None] = {}  # the open connections, oldest first

        async def one(stream: SocketStream) -> None:
            async with stream:
                slot = _Slot()
                if not _make_room(slots):
                    return  # every slot is answering a request: a flood, not a browser
                slots[slot] = None
                try:
                    with slot.scope:
                        if await self._answer(stream, handle, slot):
                            finished.set()
                except (TimeoutError, anyio.BrokenResourceError, anyio.EndOfStream, OSError):
                    pass  # a browser's idle pre-connection, or a client that went away
                finally:
                    slots.pop(slot, None)

        try:
            async with anyio.create_task_group() as tasks:
                tasks.start_soon(self._listener.serve, one)
                await finished.wait()
                tasks.cancel_scope.cancel()
        finally:
            self.refusals.flush(final=True)
            with anyio.CancelScope(shield=True):
                await self.aclose()

    async def _answer(self, stream: SocketStream, handle: CallbackHandler, slot: _Slot) -> bool:
        """Answer one request; True when it ended the login."""
        try:
            method, target, headers = _parse(await _read_head(stream, slot))
        except BadRequest:
            await _send(stream, _bad_request("Not a login callback."))
            return False
        slot.answering = True
        host = headers.get("host")
        if host is None or host.lower() not in self.hosts:
            shown = clean(host, 80) if host is not None else "none"
            # One key for every wrong host: varying the header must not buy more lines.
            self.refusals.warning(
                "wrong host", f"login callback: refused a request for another host (Host: {shown})"
            )
            await _send(stream, _bad_request("This address only serves the login."))
            return False
        return await _route(stream, handle, method, target)


class _Slot:
    """One open connection: whether it has sent anything, and how to close it early."""

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.heard = False  # some of its request has arrived
        self.answering = False  # its request head is complete: it keeps its slot


def _make_room(slots: dict[_Slot, None]) -> bool:
    """Make a slot free for a newcomer by closing the oldest idle connection (silent
    ones first, then those still sending their head); False when all are answering."""
    if len(slots) < MAX_CONNECTIONS:
        return True
    victim = next((slot for slot in slots if not slot.heard), None)
    if victim is None:
        victim = next((slot for slot in slots if not slot.answering), None)
    if victim is None:
        return False
    del slots[victim]
    victim.scope.cancel()
    return True


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


async def _read_head(stream: SocketStream, slot: _Slot) -> bytes:
    data = b""
    with anyio.fail_after(HEAD_TIMEOUT):
        while b"\r\n\r\n" not in data and b"\n\n" not in data:
            if len(data) > MAX_HEAD:
                raise BadRequest("request head too large")
            data += await stream.receive(4096)
            slot.heard = True
    return data


def _parse(head: bytes) -> tuple[str, str, dict[str, str]]:
    """(method, request target, headers by lower-case name) of a request head."""
    try:
        lines = head.decode("latin-1").split("\n")
        method, target, version = lines[0].strip().split(" ")
    except ValueError:
        raise BadRequest("malformed request line") from None
    if not version.startswith("HTTP/1.") or not target.startswith("/"):
        raise BadRequest("not an HTTP/1 origin-form request")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line.strip():
            break  # the end of the head
        name, colon, value = line.strip().partition(":")
        if not colon or name.strip().lower() in headers:
            raise BadRequest("a malformed or repeated header")
        headers[name.strip().lower()] = value.strip()
    return method, target, headers


def _bad_request(text: str) -> bytes:
    return pages.response(HTTPStatus.BAD_REQUEST, "Bad request", text)


async def _route(stream: SocketStream, handle: CallbackHandler, method: str, target: str) -> bool:
    """Answer a request for this listener's host; True when it ended the login."""
    parts = urlsplit(target)
    if parts.path != CALLBACK_PATH:
        await _send(stream, pages.not_found())
        return False
    if method != "GET":
        status = HTTPStatus.METHOD_NOT_ALLOWED
        await _send(stream, pages.response(status, "Method not allowed", "Use GET."))
        return False
    try:
        parsed = parse_qs(parts.query, keep_blank_values=True, max_num_fields=32)
    except ValueError:
        parsed = {}
    if any(len(values) != 1 for values in parsed.values()):
        await _send(stream, _bad_request("A parameter is repeated."))
        return False
    code, title, message, final = await handle({k: v[0] for k, v in parsed.items()})
    # A browser that left does not change the login's outcome.
    with contextlib.suppress(TimeoutError, anyio.BrokenResourceError, OSError):
        await _send(stream, pages.response(code, title, message))
    return final


async def _send(stream: SocketStream, data: bytes) -> None:
    with anyio.fail_after(SEND_TIMEOUT):
        await stream.send(data)
