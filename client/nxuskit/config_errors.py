"""ConfigErrors that name config.toml's file and line: one helper for every checker.

A TOML parser gives values, not positions, so the line is found again in the text: the
header of a table (``[providers.acme.oauth]``), a field inside it (``token_url =``), or a
top-level key. ``nxuskit.config`` (provider tables) and ``nxuskit.oauth_config`` (their
``oauth`` tables) both build their errors here. Standard library only.
"""

from __future__ import annotations

import re

from nxuskit.errors import ConfigError


def line_of(text: str, table: tuple[str, ...], field: str | None = None) -> int:
    """The 1-based line of FIELD in the TOML table ``[a.b.c]`` named by ``table`` (or of
    the table's header when FIELD is None or not there); 0 when the table is not found."""
    dotted = r"\s*\.\s*".join(rf"\"?{re.escape(part)}\"?" for part in table)
    header = re.compile(rf"^\s*\[\s*{dotted}\s*\]")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if header.match(line):
            if field is None:
                return number
            for offset, inner in enumerate(lines[number:], number + 1):
                if inner.lstrip().startswith("["):
                    break
                if re.match(rf"\s*{re.escape(field)}\s*=", inner):
                    return offset
            return number
    return 0


def top_level_line(text: str, key: str) -> int:
    """The line where top-level ``key`` first appears (as ``key =`` or ``[key...``)."""
    pattern = re.compile(rf"^\s*(\[+\s*)?\"?{re.escape(key)}\"?\s*[=.\]]")
    return next((n for n, line in enumerate(text.splitlines(), 1) if pattern.match(line)), 0)


def where(path: str, line: int) -> str:
    """``path, line N``, or the path alone when the line is not known (0)."""
    return f"{path}, line {line}" if line else path


class TableLocation:
    """One table of config.toml, found in its text for errors that name its lines:
    ``[providers.acme]`` or ``[providers.acme.oauth]`` (``table``, as written in the file,
    which is how its header spells it). ``fallback`` is (table, field) to point at when
    ``table`` has no header of its own (an inline ``oauth = {...}`` in
    ``[providers.acme]``)."""

    def __init__(
        self,
        path: str,
        text: str,
        table: tuple[str, ...],
        fallback: tuple[tuple[str, ...], str] | None = None,
    ) -> None:
        self.path = path
        self.text = text
        self.table = table
        self.fallback = fallback

    def inner(self, name: str) -> TableLocation:
        """The table ``[...NAME]`` inside this one (written as its own table, or inline as
        ``name = {...}`` here, where errors then point)."""
        return TableLocation(self.path, self.text, (*self.table, name), (self.table, name))

    def line(self, field: str | None) -> int:
        """The line of ``field`` (None: the table's header); 0 when not found."""
        found = line_of(self.text, self.table, field)
        if not found and self.fallback is not None:
            found = line_of(self.text, *self.fallback)
        return found

    def error(self, field: str | None, problem: str) -> ConfigError:
        """``path, line N: [table] problem``, pointing at ``field`` (None: the table)."""
        title = ".".join(self.table)
        return ConfigError(f"{where(self.path, self.line(field))}: [{title}] {problem}")
