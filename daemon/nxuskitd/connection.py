"""One client connection: read a line, dispatch it, write the answer, until done.

Each connection runs in its own task, so a slow or hostile client only ever holds up
itself: a line over the cap gets an error and the connection closes; a half-sent line
that stalls is dropped after ``partial_timeout``; a connection silent for
``idle_timeout`` is closed (clients reconnect transparently).
"""

from __future__ import annotations

import logging

import anyio
from anyio.abc import ByteStream

from nxuskit import protocol
from nxuskitd.dispatch import Dispatcher, encode, error_response
from nxuskitd.framing import IdleTimeout, LineReader, LineTooLong, PartialTimeout

log = logging.getLogger(__name__)
SEND_TIMEOUT = 10.0


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
        self._reader = LineReader(stream, max_message, partial_timeout, idle_timeout)
        self._stopping = False
        self._read_scope: anyio.CancelScope | None = None

    def stop(self) -> None:
        """Finish the request in flight, if any, then close; an idle one closes now."""
        self._stopping = True
        if self._read_scope is not None:
            self._read_scope.cancel()

    async def _close_with(self, problem: str, kind: str) -> None:
        message = f"Invalid Request: {problem}; closing the connection"
        await self._send(encode(error_response(None, protocol.INVALID_REQUEST, message, kind)))

    async def _send(self, data: bytes) -> None:
        with anyio.fail_after(SEND_TIMEOUT):
            await self._stream.send(data)

    async def serve(self) -> None:
        """Run until the client leaves, misbehaves, or ``stop()`` is called."""
        try:
            async with self._stream:
                await self._loop()
        except (anyio.BrokenResourceError, anyio.ClosedResourceError, TimeoutError, OSError):
            pass  # the client went away mid-answer, or would not read its answer

    async def _loop(self) -> None:
        while not self._stopping:
            line: bytes | None = None
            with anyio.CancelScope() as scope:
                self._read_scope = scope
                try:
                    line = await self._reader.receive_line()
                except LineTooLong:
                    limit = f"message over {self._max_message} bytes"
                    await self._close_with(limit, "message_too_large")
                    return
                except PartialTimeout:
                    await self._close_with("message not finished in time", "message_timeout")
                    return
                except IdleTimeout:
                    return
            self._read_scope = None
            if line is None or scope.cancelled_caught:
                return
            if not line.strip():
                continue  # blank lines are ignored (handy with socat)
            answer = await self._dispatcher.handle(line)
            if answer is not None:
                await self._send(answer)
