"""Reading newline-framed messages with a size cap.

The reader keeps no timers (a cancel scope per read costs more than the rest of a cached
resolve); it records when the line now buffered began, and the connection's sweeper
(``ClientConnection.check``) ends a connection whose half-sent line has stalled.
"""

from __future__ import annotations

import time

import anyio
from anyio.abc import ByteReceiveStream


class LineTooLong(Exception):
    """A message exceeded the size cap before its newline arrived."""


class LineReader:
    """Yields one line at a time (without its newline) from a byte stream."""

    def __init__(self, stream: ByteReceiveStream, max_bytes: int) -> None:
        self._stream = stream
        self._max = max_bytes
        self._buffer = bytearray()
        self._scanned = 0
        self.partial_since: float | None = None
        """``time.monotonic()`` when the unfinished line in the buffer began, else None.
        A deadline for the whole line, not per chunk: dripping bytes does not extend it."""

    async def receive_line(self) -> bytes | None:
        """The next line; None at the end of the stream.

        Raises LineTooLong when a line (newline included) passes ``max_bytes``.
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
                self.partial_since = time.monotonic() if buffer else None
                return line
            self._scanned = len(buffer)
            if len(buffer) >= self._max:
                raise LineTooLong
            if buffer and self.partial_since is None:
                self.partial_since = time.monotonic()
            try:
                chunk = await self._stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                if buffer:  # a last message without its newline still counts
                    line = bytes(buffer)
                    buffer.clear()
                    self._scanned = 0
                    self.partial_since = None
                    return line
                return None
            buffer += chunk
