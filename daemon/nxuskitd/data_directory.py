"""The daemon's data directory (the file store, the OAuth locks, the store choice): a
private directory of this user, judged by the same rule as the socket's own directory
(``nxuskit.trust.check_private_directory``), with advice that fits a data directory."""

from __future__ import annotations

import os

from nxuskit import trust
from nxuskit.errors import StoreUnavailable

FIX = "move it away, or set XDG_DATA_HOME to a directory of your own"


def check_private(directory: str) -> None:
    """``directory``, when it exists, is this user's real directory, closed to others (a
    missing one is fine: nothing is stored yet, and the first write creates it 0700).

    Raises PermissionDenied naming what is wrong and the fix.
    """
    if os.path.lexists(directory):
        trust.check_private_directory(directory, fix=FIX)


def ensure_private(directory: str) -> None:
    """Create ``directory`` 0700 (missing parents too) unless it exists, then check it.

    Raises StoreUnavailable when it cannot be created, PermissionDenied when it is not
    private.
    """
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
    except OSError as exc:
        raise StoreUnavailable(f"cannot create {directory}: {exc.strerror}") from None
    trust.check_private_directory(directory, fix=FIX)
