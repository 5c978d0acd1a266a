"""One client connection: read a line, dispatch it, write the answer, until done.

Each connection runs in its own task, so a slow or hostile client only ever holds up
itself: a line over the cap gets an error and the connection closes; a half-sent line
that stalls past ``partial_timeout``, an answer the client will not read within
``SEND_TIMEOUT``, and a connection silent for ``idle_timeout`` are ended by the server's
sweeper calling ``check`` (clients reconnect transparently). Timing this way, rather
than with a cancel scope around every read and write, keeps the hot path short: worth
keeping, one sweeper judging every deadline of every connection.
"""

from __future__ import annotations

import time

import anyio
from anyio.abc import ByteStream

from nxuskit import protocol
from nxuskitd.dispatch import Dispatcher, encode, error_response
from nxuskitd.framing import LineReader, LineTooLong

SEND_TIMEOUT = 10.0
JSON_WHITESPACE = b" \t\r"
"""What a blank line may hold: JSON's whitespace (space, tab, CR; a newline ends the line).
``bytes.strip()`` would also drop vertical tab and form feed, which are not JSON: -32700."""
_PARTIAL, _IDLE, _SEND = "partial", "idle", "send"


class ClientConnection:
    """Serves one accepted stream; ``stop()`` ends it once its current request is done."""

    def __init__(
        self,
        stream: ByteStream,
        dispatcher: Dispatcher,
        max_message: int,
        partial_timeout: float,
        idle_timeout: float | None,
    ) -> None:
        self._stream = stream
        self._dispatcher = dispatcher
        self._max_message = max_message
        self._partial_timeout = partial_timeout
        self._idle_timeout = idle_timeout
        self._reader = LineReader(stream, max_message)
        self._scope = anyio.CancelScope()
        self._stopping = False
        self._busy = False
        self._waiting_since: float | None = None
        self._sending_since: float | None = None
        self._ended_by: str | None = None

    def stop(self) -> None:
        """Finish the request in flight, if any, then close; an idle one closes now."""
        self._stopping = True
        if not self._busy:
            self._scope.cancel()

    def check(self, now: float) -> None:
        """End the connection if it broke a time limit (``now`` is ``time.monotonic()``)."""
        started = self._reader.partial_since
        if started is not None and now - started > self._partial_timeout:
            self._ended_by = _PARTIAL
        elif self._sending_since is not None and now - self._sending_since > SEND_TIMEOUT:
            self._ended_by = _SEND
        elif (
            self._idle_timeout is not None
            and started is None
            and self._waiting_since is not None
            and now - self._waiting_since > self._idle_timeout
        ):
            self._ended_by = _IDLE
        if self._ended_by is not None:
            self._scope.cancel()

    async def serve(self) -> None:
        """Run until the client leaves, misbehaves, breaks a time limit, or ``stop()``."""
        try:
            async with self._stream:
                with self._scope:
                    await self._loop()
                if self._ended_by == _PARTIAL:
                    with anyio.move_on_after(1.0):
                        await self._close_with("message not finished in time", "message_timeout")
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, OSError):
            pass  # the client went away mid-answer

    async def _close_with(self, problem: str, kind: str) -> None:
        message = f"Invalid Request: {problem}; closing the connection"
        await self._send(encode(error_response(None, protocol.INVALID_REQUEST, message, kind)))

    async def _send(self, data: bytes) -> None:
        self._sending_since = time.monotonic()
        await self._stream.send(data)
        self._sending_since = None

    async def _loop(self) -> None:
        reader = self._reader
        while not self._stopping:
            self._waiting_since = time.monotonic()
            try:
                line = await reader.receive_line()
            except LineTooLong:
                await self._close_with(
                    f"message over {self._max_message} bytes", "message_too_large"
                )
                return
            self._waiting_since = None
            if line is None:
                return
            if not line.strip(JSON_WHITESPACE):
                continue  # blank lines are ignored (handy with socat)
            self._busy = True
            answer = await self._dispatcher.handle(line)
            if answer is not None:
                await self._send(answer)
            self._busy = False
