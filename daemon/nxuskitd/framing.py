"""Reading newline-framed messages with a size cap.

The reader keeps no timers (a cancel scope per read costs more than the rest of a cached
resolve); it records when it began waiting for the rest of an unfinished line, and the
connection's sweeper (``ClientConnection.check``) ends a connection whose half-sent line
has stalled. Complete lines already buffered behind a busy request are not "unfinished":
they wait on the daemon, not on the client, so no deadline runs for them.

Fairness: a 64 KiB chunk can hold thousands of lines. A line taken from the buffer without
reading costs one checkpoint, so a flooding connection yields to the others between lines
(reading from the socket yields anyway).
"""

from __future__ import annotations

import time

import anyio
import anyio.lowlevel
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
        """``time.monotonic()`` when the reader began waiting for the rest of an unfinished
        line, else None (also while the daemon works on a line, whatever is buffered).
        A deadline for the whole line, not per chunk: dripping bytes does not extend it."""

    async def receive_line(self) -> bytes | None:
        """The next line; None at the end of the stream.

        Raises LineTooLong when a line (newline included) passes ``max_bytes``.
        """
        buffer = self._buffer
        read = False
        while True:
            end = buffer.find(b"\n", self._scanned)
            if end >= 0:
                if end + 1 > self._max:
                    raise LineTooLong
                if not read:  # let other connections in before the next buffered line
                    await anyio.lowlevel.checkpoint()
                line = bytes(buffer[:end])
                del buffer[: end + 1]
                self._scanned = 0
                self.partial_since = None
                return line
            self._scanned = len(buffer)
            if len(buffer) >= self._max:
                raise LineTooLong
            if buffer and self.partial_since is None:
                self.partial_since = time.monotonic()
            try:
                chunk = await self._stream.receive()
            except (anyio.EndOfStream, anyio.BrokenResourceError):
                return self._last_line()
            read = True
            buffer += chunk

    def _last_line(self) -> bytes | None:
        """At the end of the stream: a last message without its newline still counts."""
        self.partial_since = None
        if not self._buffer:
            return None
        line = bytes(self._buffer)
        self._buffer.clear()
        self._scanned = 0
        return line
