"""Credential stores behind one interface (``Store``), and choosing one.

``auto`` picks the OS keyring when a real backend is usable, else the file store; the
choice and its reason are returned so start-up logs and status can show them. Two
things keep ``auto`` from hiding credentials that exist: a file store that already holds
credentials stays in use (where an OS keyring is usable, the reason advises
``nxuskit-cli store migrate --to keyring``; elsewhere it says why there is none), and
the store that ``store migrate`` chose last is remembered in ``<data dir>/store-choice``.
"""

from __future__ import annotations

import contextlib
import os

from nxuskit.errors import NxuskitError, StoreUnavailable
from nxuskitd.stores.base import Record, Store
from nxuskitd.stores.file import FileStore

__all__ = ["FileStore", "Record", "Store", "open_store", "record_choice"]

CHOICE_FILE = "store-choice"
MIGRATED = "chosen by `nxuskit-cli store migrate`"


def _recorded_choice(data_dir: str) -> str | None:
    with contextlib.suppress(OSError), open(os.path.join(data_dir, CHOICE_FILE)) as handle:
        value = handle.read().strip()
        return value if value in ("file", "keyring") else None
    return None


def record_choice(data_dir: str, kind: str) -> None:
    """Remember ``kind`` as the store ``auto`` opens from now on (after a migration)."""
    os.makedirs(data_dir, mode=0o700, exist_ok=True)
    path = os.path.join(data_dir, CHOICE_FILE)
    temporary = f"{path}.tmp"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{kind}\n")
    os.rename(temporary, path)


def _file_holds_credentials(store: FileStore) -> bool:
    if not os.path.exists(store.path):
        return False
    try:
        return bool(store.names())
    except NxuskitError:
        return True  # unreadable or too open: keep it, so its error is seen, not skipped


def open_store(kind: str, data_dir: str, timeout: float = 5.0) -> tuple[Store, str]:
    """The store for ``--store KIND`` and why it was chosen.

    ``timeout`` bounds the OS keyring probe (a hung D-Bus must not hang start-up).
    Raises StoreUnavailable when ``kind`` is "keyring" and no OS keyring is usable.
    """
    from nxuskitd.stores.keyring import KeyringStore
    from nxuskitd.stores.keyring_backend import usable_backend

    if kind == "file":
        return FileStore(data_dir), "chosen with --store file"
    if kind == "keyring":
        choice = usable_backend(timeout)
        if choice.backend is None:
            raise StoreUnavailable(
                f"--store keyring: no usable OS keyring: {choice.reason}. Use --store auto or "
                "--store file, or see Troubleshooting in the README"
            )
        return KeyringStore(choice.backend, choice.description), "chosen with --store keyring"
    if kind != "auto":
        raise ValueError(f"unknown store kind {kind!r}")
    recorded = _recorded_choice(data_dir)
    file_store = FileStore(data_dir)
    if recorded == "file":
        return file_store, MIGRATED
    choice = usable_backend(timeout)
    if recorded is None and _file_holds_credentials(file_store):
        # Advise a migration only where it can work: on a headless machine it cannot.
        if choice.backend is None:
            return file_store, (
                "auto: the file store holds credentials; no OS keyring to move them to: "
                f"{choice.reason}"
            )
        return file_store, (
            "auto: the file store holds credentials (move them to the OS keyring with "
            "`nxuskit-cli store migrate --to keyring`)"
        )
    if choice.backend is None:
        return file_store, f"no OS keyring found: {choice.reason}"
    reason = MIGRATED if recorded == "keyring" else f"auto: {choice.reason}"
    return KeyringStore(choice.backend, choice.description), reason
