"""Moving every stored credential from the daemon's store to another one.

Order matters more than speed here: every credential is copied to the target and read
back (the copy must equal the original, field for field) before any source entry is
deleted, so a failure part-way leaves the source complete and the daemon on it. Only
when every copy is verified are the sources deleted and the daemon switched over; the
choice is remembered so that ``--store auto`` opens the same store after a restart.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from nxuskit.errors import StoreUnavailable
from nxuskitd.stores import Record, Store

log = logging.getLogger(__name__)

InStore = Callable[..., Awaitable[Any]]
"""Runs one store call in a worker thread with the service's timeout."""


async def copy_all(in_store: InStore, source: Store, target: Store) -> dict[str, Any]:
    """Copy and verify every credential of ``source`` into ``target``, then delete the
    sources. Returns what was moved, replaced in the target, and left behind.

    Raises StoreUnavailable (nothing deleted) when a copy fails or reads back different.
    """
    names = sorted(await in_store(source.names))
    already = set(await in_store(target.names))
    copied: list[str] = []
    for name in names:
        record: Record | None = await in_store(source.get, name)
        if record is None:
            continue  # listed but gone (an index that drifted): nothing to move
        await in_store(target.set, name, record)
        copy = await in_store(target.get, name)
        if copy != record:
            raise StoreUnavailable(
                f"the copy of {name}'s credential in {target.description} did not read back "
                f"the same; nothing was deleted and nxuskitd still uses {source.description}"
            )
        copied.append(name)
    left: list[str] = []
    for name in copied:
        try:
            await in_store(source.delete, name)
        except StoreUnavailable as exc:
            log.warning("could not delete %s from %s after copying it: %s", name, source.kind, exc)
            left.append(name)
    return {
        "moved": copied,
        "replaced": sorted(already.intersection(copied)),
        "kept": sorted(already.difference(copied)),
        "left_in_source": left,
    }


def open_target(kind: str, data_dir: str, timeout: float) -> Store:
    """The store to migrate to (blocking: run it in a worker thread).

    Raises StoreUnavailable when ``kind`` is "keyring" and no OS keyring is usable here.
    """
    from nxuskitd.stores import FileStore
    from nxuskitd.stores.keyring import KeyringStore
    from nxuskitd.stores.keyring_backend import usable_backend

    if kind == "file":
        return FileStore(data_dir)
    choice = usable_backend(timeout)
    if choice.backend is None:
        raise StoreUnavailable(f"cannot migrate to the OS keyring: {choice.reason}")
    return KeyringStore(choice.backend, choice.description)
