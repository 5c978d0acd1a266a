"""Which credential store the daemon uses, and moving credentials between stores.

The daemon keeps credentials in the OS keyring (macOS Keychain, Windows Credential
Manager, the Secret Service on Linux) or, where none is usable, in a 0600 file. It
says which, and why, in every ``auth.status`` and ``daemon.status`` answer.
"""

from __future__ import annotations

from nxuskit import protocol
from nxuskit.answers import Migration, StoreInfo

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nxuskit.client import Client

KEYRING = "keyring"
FILE = "file"

__all__ = ["Migration", "StoreInfo", "store_info", "store_migrate"]


def store_info() -> StoreInfo:
    """The store the daemon uses now, and why (``daemon.status``).

    Raises DaemonUnavailable, VersionMismatch.
    """
    from nxuskit.auth import default_client

    return default_client().store_info()


def migrate(client: Client, to: str) -> Migration:
    """``Client.store_migrate``."""
    from nxuskit.errors import InvalidArgument

    if to not in (KEYRING, FILE):
        raise InvalidArgument(f"migrate to {KEYRING!r} or {FILE!r}, not {to!r}")
    result = client.call(protocol.STORE_MIGRATE, {"to": to})
    return Migration.from_wire(result, protocol.STORE_MIGRATE)


def store_migrate(to: str) -> Migration:
    """Move every stored credential to the ``to`` store ("keyring" or "file") and make the
    daemon use it from now on (``store.migrate``). Each copy is read back and compared
    before its original is deleted; on any failure nothing is deleted and the daemon keeps
    its store.

    Raises InvalidArgument (``to`` is neither), StoreUnavailable (no usable OS keyring,
    or a copy failed), DaemonUnavailable, VersionMismatch.
    """
    from nxuskit.auth import default_client

    return migrate(default_client(), to)
