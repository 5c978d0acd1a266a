"""Plain aligned tables and footers that fit the terminal, as the product page prints them.

Hand-written on purpose: importing and rendering with rich cost ~48 ms of a ~130 ms
``provider status`` run (bench/), for columns of short words.

Width: ``COLUMNS`` when set, else the terminal's, else 80 (output to a pipe or a file).
A table wider than that shrinks its widest column first, wrapping its cells onto more
lines; a cell breaks at spaces and after a ``/`` (so paths and URLs split where a reader
expects), and only a word longer than its whole column is cut in the middle.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence

RULE = "\u2500"
GAP = "  "
DEFAULT_WIDTH = 80
MIN_COLUMN = 4  # narrower than this, a column is unreadable: cut words rather than go below
# A piece of a word: up to and with its next "/" (a URL's "scheme://" stays with its host).
_PIECE = re.compile(r"(?:[A-Za-z][\w+.-]*://)?/*[^/]+/*|/+")


def terminal_width() -> int:
    """The width to fit: COLUMNS, the terminal's width, or 80 when not a terminal."""
    return max(shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns, MIN_COLUMN * 4)


def _pieces(text: str) -> list[tuple[str, bool]]:
    """``text`` as (piece, space before it) pairs: words, split after each run of ``/``."""
    pieces: list[tuple[str, bool]] = []
    for word in text.split(" "):
        parts = _PIECE.findall(word)
        pieces.extend((part, index == 0 and bool(pieces)) for index, part in enumerate(parts))
    return pieces


def longest_piece(text: str) -> int:
    """The width of the longest piece a cell cannot be broken inside without a cut."""
    return max((len(piece) for piece, _space in _pieces(text)), default=0)


def wrap(text: str, width: int) -> list[str]:
    """``text`` in lines of at most ``width``: broken at spaces and after ``/``; a piece
    longer than ``width`` is cut. Never an empty list."""
    lines: list[str] = []
    line = ""
    for piece, space in _pieces(text):
        joined = line + (" " if space and line else "") + piece
        if len(joined) <= width:
            line = joined
            continue
        if line:
            lines.append(line)
        cut = (len(piece) - 1) // width * width  # whole lines of a piece too long for one
        lines.extend(piece[start : start + width] for start in range(0, cut, width))
        line = piece[cut:]
    lines.append(line)
    return lines


def footer(label: str, text: str, width: int | None = None) -> str:
    """``label`` then ``text``, wrapped to ``width`` with its later lines indented under
    the text (``store: file /home/...``)."""
    width = terminal_width() if width is None else width
    indent = " " * len(label)
    lines = wrap(text, max(width - len(label), MIN_COLUMN))
    return "\n".join((label if index == 0 else indent) + line for index, line in enumerate(lines))


def _fit(natural: list[int], floors: list[int], budget: int) -> list[int]:
    """Column widths summing to at most ``budget`` (where possible): the widest column
    gives way first, down to its longest piece; then, if still too wide, down to
    MIN_COLUMN, cutting words."""
    widths = list(natural)
    for limits in (floors, [min(MIN_COLUMN, width) for width in natural]):
        while sum(widths) > budget:
            shrinkable = [i for i, width in enumerate(widths) if width > limits[i]]
            if not shrinkable:
                break
            widest = max(shrinkable, key=lambda i: widths[i])
            widths[widest] -= 1
    return widths


def _row(cells: tuple[str, ...], widths: list[int]) -> list[str]:
    """One row as lines: each cell wrapped to its column, the columns side by side."""
    wrapped = [wrap(cell, width) for cell, width in zip(cells, widths, strict=True)]
    depth = max(len(lines) for lines in wrapped)
    return [
        GAP.join(
            (lines[index] if index < len(lines) else "").ljust(width)
            for lines, width in zip(wrapped, widths, strict=True)
        ).rstrip()
        for index in range(depth)
    ]


def render(
    headers: tuple[str, ...] | None, rows: Sequence[tuple[str, ...]], width: int | None = None
) -> str:
    """Columns two spaces apart, the header underlined, no trailing spaces; as wide as the
    terminal allows (``width`` overrides it), wrapping cells onto more lines past that."""
    lines = ([headers] if headers else []) + list(rows)
    if not lines:
        return ""
    columns = range(len(lines[0]))
    natural = [max(len(line[i]) for line in lines) for i in columns]
    floors = [max(longest_piece(line[i]) for line in lines) for i in columns]
    budget = (terminal_width() if width is None else width) - len(GAP) * (len(natural) - 1)
    widths = _fit(natural, floors, budget)
    out = [text for line in lines for text in _row(line, widths)]
    if headers:
        out.insert(len(_row(headers, widths)), RULE * (sum(widths) + len(GAP) * (len(widths) - 1)))
    return "\n".join(out)
