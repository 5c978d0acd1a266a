"""Reading newline-framed messages with a size cap and a deadline for half-sent ones."""

from __future__ import annotations

import anyio
from anyio.abc import ByteReceiveStream


class LineTooLong(Exception):
    """A message exceeded the size cap before its newline arrived."""


class PartialTimeout(Exception):
    """A message was started but not finished in time."""


class IdleTimeout(Exception):
    """Nothing arrived on the connection for the idle limit."""


class LineReader:
    """Yields one line at a time (without its newline) from a byte stream."""

    def __init__(
        self,
        stream: ByteReceiveStream,
        max_bytes: int,
        partial_timeout: float,
        idle_timeout: float | None = None,
    ) -> None:
        self._stream = stream
        self._max = max_bytes
        self._partial_timeout = partial_timeout
        self._idle_timeout = idle_timeout
        self._buffer = bytearray()
        self._scanned = 0
        self._deadline: float | None = None  # when the line now in the buffer must be done

    async def receive_line(self) -> bytes | None:
        """The next line; None at the end of the stream.

        Raises LineTooLong when a line (newline included) passes ``max_bytes``,
        PartialTimeout when a started line is not finished within ``partial_timeout``,
        IdleTimeout when nothing comes for ``idle_timeout``.
        """
        buffer = self._buffer
        while True:
            end = buffer.find(b"\n", self._scanned)
            if end >= 0:
                if end + 1 > self._max:
                    raise LineTooLong
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                self._scanned = 0
                self._deadline = None
                return line
            self._scanned = len(buffer)
            if len(buffer) >= self._max:
                raise LineTooLong
            timeout = self._idle_timeout
            if buffer:
                # A deadline for the whole line, not per chunk: a client dripping one byte
                # at a time must not hold a connection for hours.
                if self._deadline is None:
                    self._deadline = anyio.current_time() + self._partial_timeout
                timeout = max(0.0, self._deadline - anyio.current_time())
            try:
                with anyio.fail_after(timeout):
                    chunk = await self._stream.receive()
            except TimeoutError:
                raise PartialTimeout if buffer else IdleTimeout from None
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                if buffer:  # a last message without its newline still counts
                    line = bytes(buffer)
                    buffer.clear()
                    self._scanned = 0
                    return line
                return None
            buffer += chunk
