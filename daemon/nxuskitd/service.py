"""The credential logic the methods serve: resolve, status, set, remove, with a cache.

The daemon's cache is the shared session: what one client made the daemon read from the
store, the next client gets from memory. ``set`` and ``remove`` update it at once. Store
calls run in one worker thread at a time with a timeout, so a store that hangs (a keyring
waiting on D-Bus) costs its callers a ``store_unavailable`` error, not the whole daemon.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from nxuskit import protocol, registry
from nxuskit.errors import InvalidArgument, NotAuthenticated, NxuskitError, StoreUnavailable
from nxuskit.registry import ProviderSpec
from nxuskitd.stores import Record, Store

log = logging.getLogger(__name__)
T = TypeVar("T")


class CredentialService:
    """Credentials for the providers in the registry, kept by one store."""

    def __init__(
        self,
        store: Store,
        store_reason: str,
        store_timeout: float = 5.0,
        config_path: str | None = None,
    ) -> None:
        self.store = store
        self.store_reason = store_reason
        self.store_timeout = store_timeout
        self.config_path = config_path
        self._records: dict[str, Record | None] = {}  # None: known to be absent
        self._names: set[str] | None = None
        self._limiter = anyio.CapacityLimiter(1)

    # -- helpers ---------------------------------------------------------------------

    def provider(self, name: str) -> ProviderSpec:
        """The registry entry for ``name`` (config.toml is re-read when it changes)."""
        return registry.load(self.config_path).get(name)

    async def _in_store(self, function: Callable[..., T], *args: Any) -> T:
        with anyio.move_on_after(self.store_timeout):
            try:
                return await anyio.to_thread.run_sync(
                    function, *args, limiter=self._limiter, abandon_on_cancel=True
                )
            except NxuskitError:
                raise
            except Exception as exc:
                log.warning("store error: %s", type(exc).__name__)
                raise StoreUnavailable(
                    f"the credential store ({self.store.kind}) failed: {type(exc).__name__}"
                ) from None
        raise StoreUnavailable(
            f"the credential store ({self.store.description}) did not answer within "
            f"{self.store_timeout:g}s"
        )

    async def _record(self, name: str) -> Record | None:
        if name in self._records:
            return self._records[name]
        record = await self._in_store(self.store.get, name)
        self._records[name] = record
        return record

    async def _stored_names(self) -> set[str]:
        if self._names is None:
            self._names = set(await self._in_store(self.store.names))
        return self._names

    def store_info(self) -> dict[str, str]:
        """Which store serves, and why it was chosen."""
        return {
            "kind": self.store.kind,
            "description": self.store.description,
            "reason": self.store_reason,
        }

    def drop_cache(self) -> None:
        """Forget every cached record (the next read goes to the store)."""
        self._records.clear()
        self._names = None

    # -- the methods -----------------------------------------------------------------

    async def resolve(self, provider: str) -> dict[str, Any]:
        """The stored credential for ``provider`` (the only answer that holds a secret)."""
        spec = self.provider(provider)
        if not spec.requires_auth:
            return {
                "provider": spec.name,
                "secret": None,
                "source": None,
                "auth_method": protocol.NO_AUTH,
                "expires_at": None,
            }
        record = await self._record(spec.name)
        if record is None:
            hint = f"export {spec.env}=..., or " if spec.env else ""
            raise NotAuthenticated(
                f"no credential for {spec.name}: {hint}run `nxuskit-cli provider set {spec.name}`"
            )
        source = protocol.SOURCE_OAUTH if record.auth_method == protocol.OAUTH else "store"
        return {
            "provider": spec.name,
            "secret": record.secret,
            "source": source,
            "auth_method": record.auth_method,
            "expires_at": record.expires_at,
        }

    async def status(self, provider: str | None = None) -> dict[str, Any]:
        """What the store knows of one provider or all (never a secret)."""
        reg = registry.load(self.config_path)
        specs = [self.provider(provider)] if provider is not None else list(reg.providers)
        needs_store = any(spec.requires_auth for spec in specs)
        names = await self._stored_names() if needs_store else set()
        entries = []
        for spec in specs:
            entry: dict[str, Any] = {
                "provider": spec.name,
                "auth_methods": list(spec.auth_methods),
                "status": protocol.NOT_AUTHENTICATED,
                "source": None,
                "auth_method": None,
                "expires_at": None,
            }
            if not spec.requires_auth:
                entry["status"] = protocol.NOT_REQUIRED
            elif spec.name in names:
                record = await self._record(spec.name)
                if record is not None:
                    oauth = record.auth_method == protocol.OAUTH
                    entry.update(
                        status=protocol.AUTHENTICATED,
                        auth_method=record.auth_method,
                        source=protocol.SOURCE_OAUTH if oauth else protocol.SOURCE_STORE,
                        expires_at=record.expires_at,
                    )
            entries.append(entry)
        return {"providers": entries, "store": self.store_info()}

    async def set_credential(self, provider: str, secret: str) -> dict[str, Any]:
        """Store ``secret`` as ``provider``'s API key."""
        spec = self.provider(provider)
        if protocol.API_KEY not in spec.auth_methods:
            methods = ", ".join(spec.auth_methods) or "none, it needs no credential"
            raise InvalidArgument(f"{spec.name} does not take an API key (auth methods: {methods})")
        value = secret.strip()
        if not value:
            raise InvalidArgument("the credential is empty: pass the API key itself")
        if len(value.encode()) > protocol.MAX_SECRET_BYTES:
            raise InvalidArgument(f"the credential is over {protocol.MAX_SECRET_BYTES} bytes")
        if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
            raise InvalidArgument(
                "the credential contains a line break or control character: pass the key alone"
            )
        record = Record(secret=value, auth_method=protocol.API_KEY, updated_at=time.time())
        await self._in_store(self.store.set, spec.name, record)
        self._records[spec.name] = record
        if self._names is not None:
            self._names.add(spec.name)
        log.info("stored a credential for %s in the %s store", spec.name, self.store.kind)
        return {"provider": spec.name, "stored": True, "store": self.store.kind}

    async def remove_credential(self, provider: str) -> dict[str, Any]:
        """Remove ``provider``'s stored credential, if any."""
        spec = self.provider(provider)
        removed = await self._in_store(self.store.delete, spec.name)
        self._records[spec.name] = None
        if self._names is not None:
            self._names.discard(spec.name)
        if removed:
            log.info("removed the stored credential of %s", spec.name)
        return {"provider": spec.name, "removed": removed}

    def providers(self) -> dict[str, Any]:
        """The registry, as ``provider.list`` answers it."""
        reg = registry.load(self.config_path)
        return {"providers": [spec.to_wire() for spec in reg.providers]}
