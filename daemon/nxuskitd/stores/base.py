"""The store interface every credential store implements, and the record it keeps.

Stores are synchronous (the OS keyring is) and may block; the service calls them from a
worker thread with a timeout. A store raises ``StoreUnavailable`` with the cause and the
fix in its message when it cannot serve, and never puts a secret in an error.
"""

from __future__ import annotations

import abc
import time
from collections.abc import Hashable
from typing import Any

import msgspec


class Record(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """One stored credential. Serialized as a JSON object (the documented record format)."""

    secret: str
    auth_method: str = "api_key"
    updated_at: float = msgspec.field(default_factory=time.time)
    expires_at: float | None = None
    # OAuth token records only (absent from API-key records, so older files read as before):
    refresh_token: str | None = None
    """Never leaves the daemon: resolve answers with ``secret``, the access token."""
    scope: str | None = None
    token_type: str | None = None

    def __repr__(self) -> str:
        refresh = ", refresh_token='***'" if self.refresh_token is not None else ""
        return f"Record(auth_method={self.auth_method!r}, secret='***'{refresh})"

    def __rich_repr__(self) -> list[tuple[str, Any]]:
        # msgspec gives every Struct a __rich_repr__ listing all fields, the secret too.
        return [("auth_method", self.auth_method), ("secret", "***")]


class Store(abc.ABC):
    """A place credentials live: ``get``, ``set``, ``delete``, ``names``.

    A kind of store is a subclass with its ``kind`` (one of ``nxuskit.protocol.STORE_KINDS``)
    and an ``open`` that either gives a store ready to serve or says why it cannot;
    ``nxuskitd.stores.STORES`` lists the kinds, and the daemon's ``--store`` choices,
    ``auto`` and ``store.migrate`` all follow that table.
    """

    kind: str = "store"
    """Short name, as on the wire: "keyring" or "file"."""
    noun: str = "store"
    """What people call it, for messages ("OS keyring": "no OS keyring found: ...")."""
    found: str = ""
    """How ``open`` found this store, for ``auto``'s reason ("Secret Service is available")."""

    @classmethod
    def open(cls, data_dir: str, timeout: float) -> Store:
        """This kind of store for the daemon whose data directory is ``data_dir``;
        ``timeout`` bounds any probe (a hung D-Bus must not hang start-up). Blocking.
        Every kind in ``STORES`` defines it (a store made by hand, as tests do, need not).

        Raises StoreUnavailable saying why this kind cannot serve here.
        """
        raise NotImplementedError(f"{cls.__name__} is not a kind of store the daemon opens")

    def holds_credentials(self) -> bool:
        """Whether this store already holds credentials, if it can tell without a slow or
        prompting call (else False): ``auto`` never abandons a store that does."""
        return False

    @property
    @abc.abstractmethod
    def description(self) -> str:
        """Which store this is and where, for logs and status (e.g. "file ~/.local/...")."""

    @abc.abstractmethod
    def get(self, provider: str) -> Record | None:
        """The record stored for ``provider``, or None."""

    @abc.abstractmethod
    def set(self, provider: str, record: Record) -> None:
        """Store ``record`` for ``provider``, replacing any previous one atomically."""

    @abc.abstractmethod
    def delete(self, provider: str) -> bool:
        """Remove ``provider``'s record; True when there was one."""

    @abc.abstractmethod
    def names(self) -> list[str]:
        """The providers that have a record, without reading their secrets if avoidable."""

    def fingerprint(self) -> Hashable:
        """A cheap token of the store's state, taken without reading any secret.

        The daemon takes it before serving a cached answer: when it differs from the one
        taken before, something changed the store behind the daemon's back (another
        process wrote it, it was moved, its mode or owner changed) and the cache is
        dropped. It must cost about a system call. The default, None, says the store has
        no such cheap check (the OS keyring: an edit made with another tool is seen when
        the cached entry expires, or after ``daemon.lock``).
        """
        return None

    def close(self) -> None:  # noqa: B027 - most stores hold nothing to release
        """Release what the store holds."""
