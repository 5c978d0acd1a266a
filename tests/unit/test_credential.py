"""The one rule for API keys (``nxuskit.credential.check_secret``), which the client and
the daemon both apply: what is trimmed, what is refused, and that no refusal shows the key.
"""

from __future__ import annotations

import pytest

from nxuskit import protocol
from nxuskit.credential import check_secret
from nxuskit.errors import InvalidArgument

KEY = "sk-proj-Zq8v1T0k"


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (KEY, KEY),
        (f"  {KEY}\n", KEY),
        (f"\t{KEY}\r\n", KEY),
        ("sk-ключ-🔑", "sk-ключ-🔑"),  # any printable Unicode is a key's business
        (f"sk {KEY}", f"sk {KEY}"),  # inner spaces are kept: only the ends are trimmed
        ("sk-\u00a0nbsp", "sk-\u00a0nbsp"),  # not a control character
    ],
)
def test_keys_are_trimmed_of_ascii_whitespace_only(given: str, stored: str) -> None:
    assert check_secret(given) == stored


CONTROLS = [chr(point) for point in [*range(0x00, 0x20), *range(0x7F, 0xA0)]]
PLACED = [
    (control, where)
    for control in CONTROLS
    for where in ("start", "middle", "end")
    if where == "middle" or control not in "\t\n\r"  # those are trimmed at the ends
]


@pytest.mark.parametrize(
    ("control", "where"), PLACED, ids=[f"U+{ord(c):04X}-{where}" for c, where in PLACED]
)
def test_every_c0_c1_and_del_is_refused_anywhere(control: str, where: str) -> None:
    secret = {"start": control + KEY, "middle": KEY[:4] + control + KEY[4:],
              "end": KEY + control}[where]  # fmt: skip
    with pytest.raises(InvalidArgument) as raised:
        check_secret(secret)
    message = str(raised.value)
    assert f"U+{ord(control):04X}" in message
    assert "pass the API key alone" in message
    assert KEY[:4] not in message  # nothing of the key is shown


def test_str_strip_characters_are_not_silently_dropped() -> None:
    """str.strip() removes U+001C-U+001F and U+0085: the bug this module replaces."""
    assert "\x1fsk-abc".strip() == "sk-abc"
    with pytest.raises(InvalidArgument, match="U\\+001F"):
        check_secret("\x1fsk-abc")
    with pytest.raises(InvalidArgument, match="U\\+0085"):
        check_secret("sk-abc\x85")


@pytest.mark.parametrize("given", ["", "   ", "\r\n", " \t "])
def test_empty_is_refused(given: str) -> None:
    with pytest.raises(InvalidArgument, match="empty: pass the API key itself"):
        check_secret(given)


@pytest.mark.parametrize("given", [None, 5, b"sk-bytes"])
def test_non_text_is_refused(given: object) -> None:
    with pytest.raises(InvalidArgument, match="must be text"):
        check_secret(given)


def test_the_size_limit_counts_utf8_bytes_after_trimming() -> None:
    limit = protocol.MAX_SECRET_BYTES
    assert check_secret(" " + "k" * limit + "\n") == "k" * limit
    with pytest.raises(InvalidArgument, match=f"{limit + 1} bytes, over the {limit}-byte limit"):
        check_secret("k" * (limit + 1))
    with pytest.raises(InvalidArgument, match="over the"):
        check_secret("é" * (limit // 2 + 1))  # fewer characters than the limit, more bytes


def test_a_lone_surrogate_is_refused_clearly() -> None:
    with pytest.raises(InvalidArgument, match="not valid Unicode"):
        check_secret("sk-\ud800")
