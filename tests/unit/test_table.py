"""The CLI's tables and footers fit the width they are given, wrapping instead of cutting."""

from __future__ import annotations

import pytest

from nxuskit_cli.table import RULE, footer, render, terminal_width, wrap

HEADERS = ("Provider", "Env Variable", "Default Host")
ROWS = [
    ("openai", "OPENAI_API_KEY", "https://api.openai.com/v1"),
    ("fireworks", "FIREWORKS_API_KEY", "https://api.fireworks.ai/inference/v1"),
    ("lm-studio", "LMSTUDIO_HOST (host)", "http://localhost:1234"),
]


def test_a_table_that_fits_is_left_as_it_is() -> None:
    text = render(HEADERS, ROWS, width=200)
    lines = text.splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert lines[0].split("  ")[0] == "Provider"
    assert set(lines[1]) == {RULE}
    assert lines[3] == "fireworks  FIREWORKS_API_KEY     https://api.fireworks.ai/inference/v1"


def _cells(text: str) -> list[list[str]]:
    """The rows of a table rendered with one-letter headers and first cells, each cell's
    wrapped lines joined again (without spaces)."""
    header, _rule, *lines = text.splitlines()
    starts = [header.index(letter) for letter in "ABC"]
    rows: list[list[str]] = []
    for line in lines:
        parts = [
            line[start:end].strip() for start, end in zip(starts, [*starts[1:], None], strict=True)
        ]
        if parts[0]:
            rows.append(["", "", ""])
        rows[-1] = [
            cell + part.replace(" ", "") for cell, part in zip(rows[-1], parts, strict=True)
        ]
    return rows


@pytest.mark.parametrize("width", [70, 60, 50, 40, 30, 20])
def test_a_wide_table_wraps_to_the_width(width: int) -> None:
    rows = [(str(index), env, host) for index, (_name, env, host) in enumerate(ROWS)]
    text = render(("A", "B", "C"), rows, width=width)
    lines = text.splitlines()
    assert max(len(line) for line in lines) <= width
    assert all(line == line.rstrip() for line in lines)
    # every cell's text is all there, in order, in its own column
    assert _cells(text) == [[cell.replace(" ", "") for cell in row] for row in rows]


def test_the_widest_column_gives_way_at_slashes_first() -> None:
    lines = render(HEADERS, ROWS, width=60).splitlines()
    assert lines[3].endswith("https://api.fireworks.ai/")
    assert lines[4].strip() == "inference/v1"  # the rest of the URL, under its column
    assert lines[4].index("inference") == lines[3].index("https")


def test_wrap_breaks_at_spaces_and_after_slashes_and_cuts_only_what_cannot_fit() -> None:
    assert wrap("store migrate --to keyring", 14) == ["store migrate", "--to keyring"]
    assert wrap("/home/ada/.local/share/nxuskit/credentials.json", 24) == [
        "/home/ada/.local/share/",
        "nxuskit/credentials.json",
    ]
    assert wrap("abcdefghij", 4) == ["abcd", "efgh", "ij"]
    assert wrap("abcdef", 3) == ["abc", "def"]
    assert wrap("", 10) == [""]


def test_footer_indents_its_later_lines_under_the_text() -> None:
    reason = (
        "file, no OS keyring found: Secret Service: Unable to initialize SecretService: "
        "Environment variable DBUS_SESSION_BUS_ADDRESS is unset"
    )
    lines = footer("store: ", reason, width=80).splitlines()
    assert lines[0].startswith("store: file, no OS keyring found")
    assert all(line.startswith(" " * 7) and line[7] != " " for line in lines[1:])
    assert max(len(line) for line in lines) <= 80
    assert " ".join(line.strip() for line in lines) == "store: " + reason


def test_width_is_columns_or_80_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "132")
    assert terminal_width() == 132
    monkeypatch.delenv("COLUMNS")
    assert terminal_width() == 80  # pytest's stdout is captured: not a terminal
