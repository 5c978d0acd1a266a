"""Credential stores behind one interface (``Store``), the table of their kinds, and
choosing one.

``STORES`` maps each kind of ``nxuskit.protocol.STORE_KINDS`` to its class, in the order
``auto`` prefers them (keyring's backend registry is the model: each kind opens itself
or says why it cannot). The table drives ``--store`` (``CHOICES``), ``auto``,
``store.migrate``'s target and the choice ``store migrate`` remembers. Adding a kind of
store is one module with a ``Store`` subclass, one entry here (and in STORE_KINDS), and
one ``StoreContract`` subclass in the tests.

``auto`` opens the most preferred kind that can serve; the choice and its reason are
returned so that start-up logs and status can show them. Two things keep ``auto`` from
hiding credentials that exist: a less preferred store that already holds credentials
stays in use (where a preferred one is usable, the reason advises ``nxuskit-cli store
migrate --to KIND``; elsewhere it says why there is none), and the store that ``store
migrate`` chose last is remembered in ``<data dir>/store-choice``.
"""

from __future__ import annotations

import contextlib
import os

from nxuskit import protocol
from nxuskit.errors import StoreUnavailable
from nxuskitd.stores.base import Record, Store
from nxuskitd.stores.file import FileStore
from nxuskitd.stores.keyring import KeyringStore

__all__ = ["CHOICES", "STORES", "FileStore", "Record", "Store", "open_store", "record_choice"]

STORES: dict[str, type[Store]] = {"keyring": KeyringStore, "file": FileStore}
"""Every kind of store, keyed as on the wire, most preferred first."""
if tuple(STORES) != protocol.STORE_KINDS:  # the wire's list and this table are one list
    raise RuntimeError(f"stores {tuple(STORES)} differ from protocol.STORE_KINDS")

AUTO = "auto"
CHOICES = (AUTO, *protocol.STORE_KINDS)
"""What ``--store`` accepts."""
CHOICE_FILE = "store-choice"
MIGRATED = "chosen by `nxuskit-cli store migrate`"


def _recorded_choice(data_dir: str) -> str | None:
    with contextlib.suppress(OSError), open(os.path.join(data_dir, CHOICE_FILE)) as handle:
        value = handle.read().strip()
        return value if value in STORES else None
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


def open_store(kind: str, data_dir: str, timeout: float = 5.0) -> tuple[Store, str]:
    """The store for ``--store KIND`` (a kind of ``STORES``, or "auto") and why it was
    chosen. Blocking: ``timeout`` bounds each probe.

    Raises StoreUnavailable when the kind asked for cannot serve here.
    """
    if kind == AUTO:
        return _open_auto(data_dir, timeout)
    cls = STORES.get(kind)
    if cls is None:
        raise ValueError(f"unknown store kind {kind!r}")
    try:
        return cls.open(data_dir, timeout), f"chosen with --store {kind}"
    except StoreUnavailable as exc:
        others = " or ".join(f"--store {choice}" for choice in CHOICES if choice != kind)
        raise StoreUnavailable(
            f"--store {kind}: no usable {cls.noun}: {exc.message}. Use {others}, or see "
            "Troubleshooting in the README"
        ) from None


def _open_auto(data_dir: str, timeout: float) -> tuple[Store, str]:
    recorded = _recorded_choice(data_dir)
    failed: dict[str, str] = {}  # kind -> why it cannot serve
    if recorded is not None:
        try:
            return STORES[recorded].open(data_dir, timeout), MIGRATED
        except StoreUnavailable as exc:
            failed[recorded] = exc.message
    opened = _open_each(data_dir, timeout, failed)
    preferred = STORES[protocol.STORE_KINDS[0]]
    best = opened[0]
    # A store that already holds credentials is never silently abandoned (unless a
    # migration chose otherwise): people would think their keys were lost.
    fallbacks = [store for store in opened if store.kind != preferred.kind]
    held = None if recorded else next((s for s in fallbacks if s.holds_credentials()), None)
    chosen = held or best
    for store in opened:
        if store is not chosen:
            store.close()
    if held is not None and best.kind == preferred.kind:
        return held, (
            f"auto: the {held.kind} store holds credentials (move them to the "
            f"{preferred.noun} with `nxuskit-cli store migrate --to {preferred.kind}`)"
        )
    why = failed.get(preferred.kind, "")
    if held is not None:  # advise a migration only where it can work
        return held, (
            f"auto: the {held.kind} store holds credentials; no {preferred.noun} to move "
            f"them to: {why}"
        )
    if best.kind != preferred.kind:
        return best, f"no {preferred.noun} found: {why}"
    return best, f"auto: {best.found}"


def _open_each(data_dir: str, timeout: float, failed: dict[str, str]) -> list[Store]:
    """Every kind not in ``failed`` that opens, in order of preference (the reasons of
    those that do not are added to ``failed``)."""
    opened = []
    for kind, cls in STORES.items():
        if kind in failed:
            continue
        try:
            opened.append(cls.open(data_dir, timeout))
        except StoreUnavailable as exc:
            failed[kind] = exc.message
    if not opened:
        raise StoreUnavailable("no credential store can serve here: " + "; ".join(failed.values()))
    return opened
