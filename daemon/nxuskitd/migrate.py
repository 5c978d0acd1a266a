"""Moving every stored credential from the daemon's store to another one.

Order matters more than speed here: every credential is copied to the target and read
back (the copy must equal the original, field for field) before any source entry is
deleted, so a failure part-way leaves the source complete and the daemon on it. Only
when every copy is verified are the sources deleted and the daemon switched over; the
choice is remembered so that ``--store auto`` opens the same store after a restart.
"""

from __future__ import annotations

import dataclasses
import logging

from nxuskit.errors import StoreUnavailable
from nxuskitd.store_guard import StoreGuard
from nxuskitd.stores import STORES, Record, Store

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Copied:
    """The providers ``moved``; of those, the ones that ``replaced`` an entry already in
    the target; the target's own entries ``kept``; the ones ``left_in_source``."""

    moved: list[str]
    replaced: list[str]
    kept: list[str]
    left_in_source: list[str]


async def copy_all(guard: StoreGuard, source: Store, target: Store) -> Copied:
    """Copy and verify every credential of ``source`` into ``target``, then delete the
    sources. Returns what was moved, replaced in the target, and left behind.

    Raises StoreUnavailable (nothing deleted) when a copy fails or reads back different.
    """
    names = sorted(await guard.call(source, source.names))
    already = set(await guard.call(target, target.names))
    copied: list[str] = []
    for name in names:
        record: Record | None = await guard.call(source, source.get, name)
        if record is None:
            continue  # listed but gone (an index that drifted): nothing to move
        await guard.call(target, target.set, name, record)
        copy = await guard.call(target, target.get, name)
        if copy != record:
            raise StoreUnavailable(
                f"the copy of {name}'s credential in {target.description} did not read back "
                f"the same; nothing was deleted and nxuskitd still uses {source.description}"
            )
        copied.append(name)
    left: list[str] = []
    for name in copied:
        try:
            await guard.call(source, source.delete, name)
        except StoreUnavailable as exc:
            log.warning("could not delete %s from %s after copying it: %s", name, source.kind, exc)
            left.append(name)
    return Copied(
        moved=copied,
        replaced=sorted(already.intersection(copied)),
        kept=sorted(already.difference(copied)),
        left_in_source=left,
    )


def open_target(kind: str, data_dir: str, timeout: float) -> Store:
    """The store of kind ``kind`` to migrate to (blocking: run it in a worker thread).

    Raises StoreUnavailable when that kind cannot serve here (no usable OS keyring).
    """
    cls = STORES[kind]
    try:
        return cls.open(data_dir, timeout)
    except StoreUnavailable as exc:
        raise StoreUnavailable(f"cannot migrate to the {cls.noun}: {exc.message}") from None
