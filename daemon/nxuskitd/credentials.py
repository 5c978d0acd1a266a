"""The credential logic the methods serve: resolve, status, set, remove, with a cache.

The daemon's cache is the shared session: what one client made the daemon read from the
store, the next client gets from memory. ``set`` and ``remove`` update it at once. Before
a cached answer is served, the store's fingerprint is compared with the one taken before
(for the file store, a stat of the file and its directory): a store changed behind the
daemon's back (another daemon sharing the file, a moved or chmodded file) drops the whole
cache. Every store call passes the ``StoreGuard`` (a worker thread with a timeout), so a
store that hangs (a keyring waiting on D-Bus) costs its callers a ``store_unavailable``
error, not the whole daemon. Every method answers with its ``nxuskit.answers`` shape.

When config.toml has a ``[team]``, a provider the personal store has no credential for
is looked up in the team store (``self.team``, ``nxuskitd.team``): personal first, so a
personal key never waits on the team store.

Whatever may change what a resolve answers (a write, a drop, a store read, a change
behind the daemon's back) moves the generation clients cache by (``nxuskitd.reuse``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from nxuskit import protocol, registry
from nxuskit.answers import (
    AuthStatus,
    CacheInfo,
    Locked,
    Migration,
    Providers,
    Removed,
    Resolution,
    Statuses,
    Stored,
    StoreInfo,
)
from nxuskit.credential import check_secret
from nxuskit.errors import InvalidArgument, NotAuthenticated
from nxuskit.registry import ProviderSpec
from nxuskitd import registry_answers
from nxuskitd.cache import SessionCache
from nxuskitd.config_watch import RegistryWatch
from nxuskitd.generation import Generation
from nxuskitd.reuse import ReuseLedger
from nxuskitd.single_flight import SingleFlight
from nxuskitd.store_guard import StoreGuard
from nxuskitd.stores import STORES, Record, Store
from nxuskitd.team import TeamSlot

log = logging.getLogger(__name__)
if TYPE_CHECKING:
    from nxuskitd.team.service import TeamService

T = TypeVar("T")
NAMES = ":names"  # the cache key of the stored providers' names (never a provider name)


class CredentialService:
    """Credentials for the providers in the registry, kept by one store."""

    def __init__(
        self,
        store: Store,
        store_reason: str,
        store_timeout: float = 5.0,
        config_path: str | None = None,
        cache_idle: float | None = 600.0,
        cache_max: float | None = 7200.0,
        data_dir: str | None = None,
        published: Generation | None = None,
    ) -> None:
        self.store = store
        self.store_reason = store_reason
        self.store_timeout = store_timeout
        self.config_path = config_path
        self.data_dir = data_dir
        self.cache = SessionCache(cache_idle, cache_max)  # values: Record, None (absent), names
        self.store_reads = 0
        """Records read from the store (not from the cache) since start: a debug counter."""
        self._reads: SingleFlight[Any] = SingleFlight()
        self._writing = anyio.Lock()  # a migration excludes set and remove
        self._guard = StoreGuard(store_timeout)
        self._fingerprint: Hashable = store.fingerprint()  # as of the last check
        self.refresh_hook: Callable[[ProviderSpec, Record], Awaitable[Record]] | None = None
        """Set by the OAuth manager: turns an expiring OAuth record into a fresh one."""
        self._ended_logins: dict[str, str] = {}  # provider -> why its OAuth login ended
        self.published = published or Generation()
        """The generation clients compare their cached resolves with."""
        self.reuse = ReuseLedger(self.published, self.cache)
        self._registry = RegistryWatch(config_path, self.published)
        self.team = TeamSlot(self, self.load_registry, cache_idle, cache_max)
        """The team store of config.toml's ``[team]``, asked when the personal store has
        no credential (its ``run`` is the daemon's to start)."""

    # -- helpers ---------------------------------------------------------------------

    def load_registry(self) -> registry.Registry:
        """The registry (config.toml is re-read when it changes); what is wrong with
        config.toml is logged once per change, not per request."""
        return self._registry.load()

    def provider(self, name: str) -> ProviderSpec:
        """The registry entry for ``name``."""
        return self.load_registry().get(name)

    async def _in_store(
        self, function: Callable[..., T], *args: Any, changes: str | None = None
    ) -> T:
        """``function(*args)`` (a method of the store) through the guard (``changes``:
        the credential a write changes, forgotten if the write finishes after a timeout)."""
        return await self._guard.call(self.store, function, *args, changes=changes)

    def _check_store(self) -> bool:
        """Drop the cache when the store changed behind the daemon's back (another daemon
        sharing the file, a moved or chmodded file: a stat, no read); True if it did.
        Also forget what writes given up on changed when they finished after all."""
        late = self._guard.finished_late() if self._guard.late else ()
        for name in late:
            self.cache.forget(name)
            self.cache.forget(NAMES)
            self.published.bump()
        fingerprint = self.store.fingerprint()
        if fingerprint == self._fingerprint:
            return False
        log.debug("the store changed since it was read: forgot %d entries", len(self.cache))
        self._fingerprint = fingerprint
        self.cache.drop()
        self._reads.forget()  # reads under way may predate the change: new callers reread
        self.published.bump()
        return True

    def notice_changes(self) -> None:
        """Look for a store or config.toml changed behind the daemon's back (moving the
        generation if so): what a request would notice, for when clients send none."""
        self._check_store()
        self.load_registry()

    async def _cached(self, key: str, function: Callable[..., T], *args: Any) -> T:
        """The cached value of ``key``, else ``function(*args)`` read from the store once,
        however many callers ask at the same time (they share the one read)."""
        self._check_store()
        hit, value = self.cache.get(key)
        if hit:
            return value  # type: ignore[no-any-return]

        async def read() -> T:
            hit, value = self.cache.get(key)  # a read that ended while this one queued
            if hit:
                return value  # type: ignore[no-any-return]
            generation = self.cache.generation
            read: T = await self._in_store(function, *args)
            self.cache.put(key, read, generation)
            if key != NAMES:
                self.store_reads += 1
                self.published.bump()  # a keyring edited with another tool is seen here
            return read

        return await self._reads.run(key, read)  # type: ignore[no-any-return]

    async def _record(self, name: str) -> Record | None:
        return await self._cached(name, self.store.get, name)

    async def _stored_names(self) -> set[str]:
        return set(await self._cached(NAMES, self.store.names))

    def _remember(self, name: str, record: Record | None) -> None:
        """Put what a set (``record``) or remove (None) wrote into the cache at once."""
        if record is not None:
            self._ended_logins.pop(name, None)
        if self._check_store():
            # The store's fingerprint moved (by this write, perhaps by another process's
            # too): no cached entry can be trusted, this one included; the next read
            # goes to the store, which for a file is one cheap read.
            return
        hit, names = self.cache.get(NAMES)
        self.cache.forget(name)  # reads under way must not put an older answer back
        self.cache.put(name, record)
        if hit:
            self.cache.put(NAMES, (set(names) | {name}) if record else (set(names) - {name}))
        self.published.bump()  # after the change, before the call that made it returns

    def store_info(self) -> StoreInfo:
        """Which store serves, and why it was chosen."""
        return StoreInfo(self.store.kind, self.store.description, self.store_reason)

    def drop_cache(self) -> int:
        """Forget every cached record (the next read goes to the store); how many."""
        dropped = self.cache.drop()
        self.published.bump()
        return dropped

    def lock(self) -> Locked:
        """``daemon.lock``: forget the cached secrets now (team keys and token too)."""
        dropped = self.drop_cache() + self.team.drop()
        log.info("locked: forgot %d cached entries", dropped)
        return Locked(locked=True, forgotten=dropped)

    def cache_info(self) -> CacheInfo:
        """The session cache's limits and counters, for ``daemon.status``."""
        cache = self.cache
        return CacheInfo(len(cache), cache.idle, cache.maximum, self.store_reads)

    async def expire_forever(self) -> None:
        """Forget cached entries past their idle or maximum time, until cancelled."""
        while True:
            await anyio.sleep(self.cache.sweep_interval())
            if self.cache.expire():
                log.debug("forgot cached entries past their time")

    def close(self) -> None:
        """Release the store in use (after a migration, the one migrated to)."""
        self.store.close()

    # -- the methods -----------------------------------------------------------------

    async def resolve(self, provider: str, reuse: bool = False) -> Resolution:
        """The stored credential for ``provider`` (the only answer that holds a secret):
        the personal store's (with leave to reuse it when a caching client asks), else
        the team store's (never reused)."""
        generation = self.published.value  # before anything is read: see nxuskitd.reuse
        reg = self.load_registry()
        spec = reg.get(provider)
        if not spec.requires_auth:
            return Resolution(spec.name, None, None, protocol.NO_AUTH, None)
        record = await self._record(spec.name)
        if record is None:
            ended = self._ended_logins.get(spec.name)
            hint = ended or f"no credential for {spec.name}: {missing_hint(spec)}"
            team = self.team.service(reg) if ended is None else None
            if team is not None and protocol.API_KEY in spec.auth_methods:
                return await team.resolve(spec, hint)
            raise NotAuthenticated(hint)
        if record.auth_method == protocol.OAUTH and self.refresh_hook is not None:
            record = await self.refresh_hook(spec, record)
        oauth = record.auth_method == protocol.OAUTH
        source = protocol.SOURCE_OAUTH if oauth else protocol.SOURCE_STORE
        leave = self.reuse.grant(spec.name, record, generation) if reuse else None
        return Resolution(
            spec.name, record.secret, source, record.auth_method, record.expires_at, leave
        )

    async def status(self, provider: str | None = None) -> Statuses:
        """What the store knows of one provider or all (never a secret)."""
        reg = self.load_registry()
        specs = [reg.get(provider)] if provider is not None else list(reg.providers)
        needs_store = any(spec.requires_auth for spec in specs)
        names = await self._stored_names() if needs_store else set()
        team = self.team.usable(reg)
        entries = [await self._status_of(spec, names, team) for spec in specs]
        if provider is None:
            entries.extend(registry_answers.broken_statuses(reg))
        known = {spec.name for spec in reg.providers} | set(reg.broken)
        orphans = sorted(name for name in names - known if registry.plain_name(name))
        return Statuses(entries, self.store_info(), orphans, self.team.info(reg))

    async def _status_of(
        self, spec: ProviderSpec, names: set[str], team: TeamService | None
    ) -> AuthStatus:
        methods, shown = list(spec.auth_methods), spec.display_name
        if not spec.requires_auth:
            return AuthStatus(spec.name, protocol.NOT_REQUIRED, None, methods, display_name=shown)
        record = await self._record(spec.name) if spec.name in names else None
        if record is None and team is not None and protocol.API_KEY in spec.auth_methods:
            return await team.status_of(spec)
        if record is None:
            return AuthStatus(
                spec.name, protocol.NOT_AUTHENTICATED, None, methods, display_name=shown
            )
        oauth = record.auth_method == protocol.OAUTH
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            protocol.SOURCE_OAUTH if oauth else protocol.SOURCE_STORE,
            methods,
            auth_method=record.auth_method,
            expires_at=record.expires_at,
            display_name=shown,
        )

    async def set_credential(self, provider: str, secret: str) -> Stored:
        """Store ``secret`` as ``provider``'s API key."""
        spec = self.provider(provider)
        if protocol.API_KEY not in spec.auth_methods:
            methods = ", ".join(spec.auth_methods) or "none, it needs no credential"
            raise InvalidArgument(f"{spec.name} does not take an API key (auth methods: {methods})")
        value = check_secret(secret)  # the client's own rule: one rule on both sides
        record = Record(secret=value, auth_method=protocol.API_KEY, updated_at=time.time())
        async with self._writing:
            replaced = spec.name in await self._stored_names()  # cached: no record read
            await self._in_store(self.store.set, spec.name, record, changes=spec.name)
            self._remember(spec.name, record)
        log.info("stored a credential for %s in the %s store", spec.name, self.store.kind)
        return Stored(spec.name, stored=True, store=self.store.kind, replaced=replaced)

    async def remove_credential(self, provider: str) -> Removed:
        """Remove ``provider``'s stored credential, if any. ``provider`` is a known name or
        alias, or the exact stored name of a provider config.toml no longer defines."""
        spec = registry.load(self.config_path).find(provider)
        if spec is not None:
            name = spec.name
        elif provider in await self._stored_names():
            name = provider  # an orphan: stored before its provider left config.toml
        else:
            name = self.provider(provider).name  # raises UnknownProvider, never echoing a key
        async with self._writing:
            removed = await self._in_store(self.store.delete, name, changes=name)
            self._remember(name, None)
        if removed:
            shown = name if registry.plain_name(name) else registry.shown_name(name)
            log.info("removed the stored credential of %s", shown)
        return Removed(name, removed)

    async def migrate_store(self, to: str) -> Migration:
        """``store.migrate``: move every credential to the store of kind ``to`` (one of
        ``STORES``), each copy verified before its source is deleted, then serve from it."""
        from nxuskitd import migrate
        from nxuskitd.stores import MIGRATED, record_choice

        if to not in STORES:
            raise InvalidArgument(f"to: choose {' or '.join(STORES)}, not {to!r}")
        if self.data_dir is None:
            raise InvalidArgument("this nxuskitd was started without a data directory")
        source, data_dir = self.store, self.data_dir
        before = self.store_info()
        if to == source.kind:
            return Migration(before, before, [], [], [], [])
        async with self._writing:
            target = await anyio.to_thread.run_sync(
                migrate.open_target, to, data_dir, self.store_timeout
            )
            copied = await migrate.copy_all(self._guard, source, target)
            self.store, self.store_reason = target, MIGRATED
            self.drop_cache()
            await anyio.to_thread.run_sync(record_choice, data_dir, to)
        source.close()
        log.info("migrated %d credentials to %s", len(copied.moved), target.description)
        return Migration(
            before,
            self.store_info(),
            copied.moved,
            copied.replaced,
            copied.kept,
            copied.left_in_source,
        )

    async def record(self, name: str) -> Record | None:
        """The record stored under ``name`` (cached): the team layer's token lives under
        a reserved name that no provider can have."""
        return await self._record(name)

    async def delete_record(self, name: str) -> bool:
        """Delete the record stored under ``name`` (a reserved name); whether there was one."""
        async with self._writing:
            removed = await self._in_store(self.store.delete, name, changes=name)
            self._remember(name, None)
        return bool(removed)

    async def reload_record(self, name: str) -> Record | None:
        """``name``'s record read from the store itself, not the cache (then cached):
        what an OAuth refresh checks before it spends a refresh token."""
        record = await self._in_store(self.store.get, name)
        self._remember(name, record)
        return record

    def login_ended(self, name: str, message: str) -> None:
        """Remember (in memory) why ``name``'s OAuth login ended, after its record was
        deleted: later resolves repeat ``message`` (log in again), not a generic hint."""
        self._ended_logins[name] = message

    async def store_record(self, name: str, record: Record) -> None:
        """Store an OAuth login's or refresh's record. It is cached even when the store
        write fails, so a rotated refresh token is not lost while the daemon runs."""
        try:
            async with self._writing:
                await self._in_store(self.store.set, name, record)
        finally:
            self._remember(name, record)

    def providers(self) -> Providers:
        """``provider.list``: the registry as the daemon reads it."""
        return registry_answers.provider_list(self.load_registry())


def missing_hint(spec: ProviderSpec) -> str:
    """What to run when ``spec`` has no credential, following its auth methods: an
    OAuth-only provider cannot take ``provider set``, an API-key-only one has no login."""
    login = f"`nxuskit-cli provider login {spec.name}`"
    if protocol.API_KEY not in spec.auth_methods:
        return f"run {login}"
    key = f"`nxuskit-cli provider set {spec.name}`"
    env = f"export {spec.env}=..., or " if spec.env else ""
    if protocol.OAUTH in spec.auth_methods:
        return f"{env}run {key} or {login}"
    return f"{env}run {key}"
