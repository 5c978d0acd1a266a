"""Masking secrets in what ``nxuskit-cli run``'s command writes, as ``op run`` does.

A ``Masker`` filters one output stream: every occurrence of a secret becomes
``<concealed by nxuskit>``. A secret may arrive split across two reads (the command wrote
it in two pieces, or a pipe cut it), so the end of a read that could begin a secret is
held back until the next read shows whether it does; everything else passes at once,
so a prompt or a progress line is not delayed. What is held is written at the end of
the stream. ``relay`` copies one pipe to one output through a Masker, in its own thread.
"""

from __future__ import annotations

import os
import re

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

CONCEALED = b"<concealed by nxuskit>"
MIN_MASKED = 6
"""Shorter values are not masked: they would hide ordinary words and numbers."""

_CHUNK = 65536


class Masker:
    """Replaces ``secrets`` in a byte stream fed to it in pieces (see the module docstring)."""

    def __init__(self, secrets: Iterable[str]) -> None:
        encoded = {secret.encode("utf-8", "surrogateescape") for secret in secrets}
        # Longest first: where two secrets start at one place, the longer one is concealed.
        self._values = sorted((v for v in encoded if len(v) >= MIN_MASKED), key=len, reverse=True)
        self._pattern = (
            re.compile(b"|".join(map(re.escape, self._values))) if self._values else None
        )
        self._starts = frozenset(value[0] for value in self._values)
        self._longest = len(self._values[0]) if self._values else 0
        self._held = b""

    def __repr__(self) -> str:
        return f"Masker({len(self._values)} secrets)"  # never the values

    def feed(self, chunk: bytes) -> bytes:
        """What may be written now of the stream so far, masked."""
        data = self._held + chunk
        if self._pattern is None:
            return data
        parts = []
        written = 0
        for match in self._pattern.finditer(data):
            parts += [data[written : match.start()], CONCEALED]
            written = match.end()
        tail = data[written:]
        held = self._partial(tail)
        self._held = tail[len(tail) - held :] if held else b""
        parts.append(tail[: len(tail) - held])
        return b"".join(parts)

    def flush(self) -> bytes:
        """The held end of the stream (at its end: it did not turn into a secret)."""
        held, self._held = self._held, b""
        return held

    def _partial(self, tail: bytes) -> int:
        """The length of the longest end of ``tail`` that is the beginning of a secret."""
        for position in range(max(0, len(tail) - self._longest + 1), len(tail)):
            if tail[position] in self._starts:
                end = tail[position:]
                if any(value.startswith(end) for value in self._values):
                    return len(tail) - position
        return 0


def write_all(descriptor: int, data: bytes) -> None:
    """Write all of ``data`` (a pipe may take it in parts)."""
    view = memoryview(data)
    while view:
        view = view[os.write(descriptor, view) :]


def relay(source: int, target: int, masker: Masker) -> None:
    """Copy ``source`` to ``target`` through ``masker`` until the end of ``source``, then
    close ``source``. When ``target`` fails (its reader went away), stop and close
    ``source``: the command then gets EPIPE or SIGPIPE, as in a shell pipeline."""
    try:
        while chunk := os.read(source, _CHUNK):
            write_all(target, masker.feed(chunk))
        write_all(target, masker.flush())
    except OSError:
        pass
    finally:
        os.close(source)
