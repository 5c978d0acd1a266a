"""Plain aligned tables, as the product page prints them.

Hand-written on purpose: importing and rendering with rich cost ~48 ms of a ~130 ms
``provider status`` run (bench/), for columns of short words.
"""

from __future__ import annotations

from collections.abc import Sequence

RULE = "\u2500"


def render(headers: tuple[str, ...] | None, rows: Sequence[tuple[str, ...]]) -> str:
    """Columns two spaces apart, the header underlined; no trailing spaces."""
    lines = ([headers] if headers else []) + list(rows)
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))] if lines else []
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    ]
    if headers:
        out.insert(1, RULE * (sum(widths) + 2 * (len(widths) - 1)))
    return "\n".join(out)
