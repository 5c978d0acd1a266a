"""Which credential store the daemon uses, and moving credentials between stores.

The daemon keeps credentials in the OS keyring (macOS Keychain, Windows Credential
Manager, the Secret Service on Linux) or, where none is usable, in a 0600 file: the kinds
are ``protocol.STORE_KINDS``. It says which, and why, in every ``auth.status`` and
``daemon.status`` answer. Module functions over the default ``Client``.
"""

from __future__ import annotations

from nxuskit.answers import Migration, StoreInfo
from nxuskit.client import default_client

__all__ = ["Migration", "StoreInfo", "store_info", "store_migrate"]


def store_info() -> StoreInfo:
    """The store the daemon uses now, and why (``daemon.status``).

    Raises DaemonUnavailable, VersionMismatch.
    """
    return default_client().store_info()


def store_migrate(to: str) -> Migration:
    """Move every stored credential to the ``to`` store (one of ``protocol.STORE_KINDS``:
    the OS keyring or the file) and make the daemon use it from now on (``store.migrate``).
    Each copy is read back and compared before its original is deleted; on any failure
    nothing is deleted and the daemon keeps its store.

    Raises InvalidArgument (``to`` is no store kind), StoreUnavailable (no usable OS
    keyring, or a copy failed), DaemonUnavailable, VersionMismatch.
    """
    return default_client().store_migrate(to)
