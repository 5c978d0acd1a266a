"""Credential stores behind one interface (``Store``), and choosing one.

``auto`` picks the OS keyring when a real backend is usable, else the file store; the
choice and its reason are returned so start-up logs and status can show them.
"""

from __future__ import annotations

from nxuskitd.stores.base import Record, Store
from nxuskitd.stores.file import FileStore

__all__ = ["FileStore", "Record", "Store", "open_store"]


def open_store(kind: str, data_dir: str) -> tuple[Store, str]:
    """The store for ``--store KIND`` and why it was chosen.

    Raises StoreUnavailable when ``kind`` names a store that cannot work here.
    """
    if kind == "file":
        return FileStore(data_dir), "chosen with --store file"
    if kind == "auto":
        return FileStore(data_dir), "no OS keyring store in this build"
    if kind == "keyring":
        from nxuskit.errors import StoreUnavailable

        raise StoreUnavailable(
            "--store keyring: no OS keyring store in this build; use --store file"
        )
    raise ValueError(f"unknown store kind {kind!r}")
