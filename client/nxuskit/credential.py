"""What an API key may be: one rule, used by the client before it sends a key and by the
daemon before it stores one (and by any tool that reads a key from a person).

The ends are trimmed of ASCII space, tab, CR and LF only: what a paste or ``echo`` adds.
``str.strip()`` is not used because it also eats U+001C-U+001F and U+0085, control
characters that must be refused, not silently dropped. Standard library only.
"""

from __future__ import annotations

from nxuskit import protocol
from nxuskit.errors import InvalidArgument

EDGE_WHITESPACE = " \t\r\n"
"""Trimmed from both ends of a key: what a paste, a file or ``echo`` adds around it."""


def _control_character(secret: str) -> str | None:
    """The first C0 control, DEL or C1 control in ``secret`` as ``U+XXXX``, else None."""
    if secret.isascii() and secret.isprintable():  # the usual key: one fast C-level pass
        return None
    for character in secret:
        point = ord(character)
        if point < 0x20 or 0x7F <= point <= 0x9F:
            return f"U+{point:04X}"
    return None


def check_secret(value: object) -> str:
    """``value`` as it is to be stored: trimmed of ``EDGE_WHITESPACE`` at both ends.

    Raises InvalidArgument, whose message never shows the value, when ``value`` is not a
    string, is empty once trimmed, is not valid Unicode (a lone surrogate), is longer than
    ``protocol.MAX_SECRET_BYTES`` in UTF-8, or holds a control character anywhere
    (U+0000-U+001F, U+007F-U+009F), a line break inside it included.
    """
    if not isinstance(value, str):
        raise InvalidArgument("the credential must be text: pass the API key itself")
    secret = value.strip(EDGE_WHITESPACE)
    if not secret:
        raise InvalidArgument("the credential is empty: pass the API key itself")
    try:
        size = len(secret.encode("utf-8"))
    except UnicodeEncodeError:
        raise InvalidArgument(
            "the credential is not valid Unicode text (a lone surrogate): pass the API key itself"
        ) from None
    if size > protocol.MAX_SECRET_BYTES:
        raise InvalidArgument(
            f"the credential is {size} bytes, over the {protocol.MAX_SECRET_BYTES}-byte limit: "
            "pass the API key alone"
        )
    control = _control_character(secret)
    if control is not None:
        raise InvalidArgument(
            f"the credential contains the control character {control} (a line break, tab or "
            "other invisible character): pass the API key alone"
        )
    return secret
