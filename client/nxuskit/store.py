"""Which credential store the daemon uses, and moving credentials between stores.

The daemon keeps credentials in the OS keyring (macOS Keychain, Windows Credential
Manager, the Secret Service on Linux) or, where none is usable, in a 0600 file. It
says which, and why, in every ``auth.status`` and ``daemon.status`` answer.
"""

from __future__ import annotations

from nxuskit import protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nxuskit.client import Client

KEYRING = "keyring"
FILE = "file"


class StoreInfo:
    """The daemon's store: ``kind`` ("keyring" or "file"), a human ``description``
    ("Secret Service (keyring)", "file /home/.../credentials.json") and the ``reason`` it
    was chosen ("no OS keyring found: ...")."""

    __slots__ = ("description", "kind", "reason")

    def __init__(self, kind: str, description: str, reason: str) -> None:
        self.kind = kind
        self.description = description
        self.reason = reason

    @classmethod
    def from_wire(cls, value: object) -> StoreInfo | None:
        """The ``store`` object of a daemon answer (None when absent or malformed)."""
        if not isinstance(value, dict):
            return None
        return cls(
            str(value.get("kind", "")),
            str(value.get("description", "")),
            str(value.get("reason", "")),
        )

    @property
    def summary(self) -> str:
        """One line for people: "Secret Service (keyring)" or "file, no OS keyring found: ..."."""
        if self.kind == FILE:
            return f"file, {self.reason}" if self.reason else "file"
        return self.description or self.kind

    def to_dict(self) -> dict[str, str]:
        """The store as plain data (the wire's shape)."""
        return {"kind": self.kind, "description": self.description, "reason": self.reason}

    def __repr__(self) -> str:
        return f"StoreInfo(kind={self.kind!r}, description={self.description!r})"


class Migration:
    """What ``store_migrate`` did: the stores before and after, and the providers whose
    credentials were ``moved``; ``replaced`` ones overwrote an entry already in the target,
    ``kept`` ones were in the target already and stay, ``left_in_source`` could not be
    deleted from the old store after their verified copy."""

    __slots__ = ("kept", "left_in_source", "moved", "replaced", "source", "target")

    def __init__(self, result: dict[str, Any]) -> None:
        unknown = StoreInfo("", "", "")
        self.source = StoreInfo.from_wire(result.get("from")) or unknown
        self.target = StoreInfo.from_wire(result.get("to")) or unknown
        self.moved: list[str] = list(result.get("moved", []))
        self.replaced: list[str] = list(result.get("replaced", []))
        self.kept: list[str] = list(result.get("kept", []))
        self.left_in_source: list[str] = list(result.get("left_in_source", []))

    def to_dict(self) -> dict[str, Any]:
        """The migration as plain data (the CLI's ``--json`` shape)."""
        return {
            "from": self.source.to_dict(),
            "to": self.target.to_dict(),
            "moved": self.moved,
            "replaced": self.replaced,
            "kept": self.kept,
            "left_in_source": self.left_in_source,
        }

    def __repr__(self) -> str:
        return f"Migration(to={self.target.kind!r}, moved={self.moved!r})"


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
    result: dict[str, Any] = client.call(protocol.STORE_MIGRATE, {"to": to})
    return Migration(result)


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
