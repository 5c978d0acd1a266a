"""The shared session: one store read for many callers, idle and maximum lifetimes,
lock, writes that update it, a hung store that costs only its callers, migration."""

from __future__ import annotations

import threading
from pathlib import Path

import anyio
import pytest

from nxuskit.errors import StoreUnavailable
from nxuskitd import migrate
from nxuskitd.cache import SessionCache
from nxuskitd.credentials import CredentialService
from nxuskitd.stores import Record, Store

pytestmark = pytest.mark.usefixtures("client_env")


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_an_unused_entry_is_forgotten_after_the_idle_time() -> None:
    clock = Clock()
    cache = SessionCache(idle=10, maximum=100, clock=clock)
    cache.put("openai", "a")
    clock.now += 9
    assert cache.get("openai") == (True, "a")  # use restarts the idle clock
    clock.now += 9
    assert cache.get("openai") == (True, "a")
    clock.now += 10
    assert cache.get("openai") == (False, None)


def test_an_entry_in_constant_use_is_forgotten_at_the_maximum() -> None:
    clock = Clock()
    cache = SessionCache(idle=10, maximum=25, clock=clock)
    cache.put("openai", "a")
    for _ in range(4):
        clock.now += 6
        assert cache.get("openai")[0]
    clock.now += 6
    assert cache.get("openai") == (False, None)


def test_expire_drops_entries_without_being_asked() -> None:
    clock = Clock()
    cache = SessionCache(idle=10, maximum=100, clock=clock)
    cache.put("openai", "a")
    cache.put("claude", "b")
    clock.now += 5
    cache.get("claude")
    clock.now += 6
    assert cache.expire() == 1
    assert len(cache) == 1


def test_a_read_older_than_a_drop_is_not_cached() -> None:
    cache = SessionCache()
    generation = cache.generation
    cache.drop()
    cache.put("openai", "stale", generation)
    assert cache.get("openai") == (False, None)


def test_idle_zero_caches_nothing() -> None:
    cache = SessionCache(idle=0)
    cache.put("openai", "a")
    assert len(cache) == 0


class SlowStore(Store):
    """An in-memory store that counts reads and can be held up."""

    kind = "memory"

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.reads = 0
        self.gate = threading.Event()
        self.gate.set()

    @property
    def description(self) -> str:
        return "memory (test)"

    def get(self, provider: str) -> Record | None:
        self.gate.wait(10)
        self.reads += 1
        return self.records.get(provider)

    def set(self, provider: str, record: Record) -> None:
        self.gate.wait(10)
        self.records[provider] = record

    def delete(self, provider: str) -> bool:
        self.gate.wait(10)
        return self.records.pop(provider, None) is not None

    def names(self) -> list[str]:
        return sorted(self.records)


@pytest.fixture
def store() -> SlowStore:
    slow = SlowStore()
    slow.records["openai"] = Record(secret="sk-stored")
    return slow


def service_for(store: Store, **kwargs: object) -> CredentialService:
    return CredentialService(store, "test", store_timeout=1.0, **kwargs)  # type: ignore[arg-type]


@pytest.mark.anyio
async def test_sixteen_concurrent_resolves_read_the_store_once(store: SlowStore) -> None:
    service = service_for(store)
    store.gate.clear()
    answers: list[str] = []

    async def resolve() -> None:
        answers.append((await service.resolve("openai"))["secret"])

    async with anyio.create_task_group() as tasks:
        for _ in range(16):
            tasks.start_soon(resolve)
        await anyio.sleep(0.1)
        store.gate.set()
    assert answers == ["sk-stored"] * 16
    assert store.reads == 1
    assert service.cache_info()["store_reads"] == 1


@pytest.mark.anyio
async def test_concurrent_resolves_share_one_read_even_without_a_cache(store: SlowStore) -> None:
    service = service_for(store, cache_idle=0)
    store.gate.clear()
    async with anyio.create_task_group() as tasks:
        for _ in range(8):
            tasks.start_soon(service.resolve, "openai")
        await anyio.sleep(0.1)
        store.gate.set()
    assert store.reads == 1
    await service.resolve("openai")
    assert store.reads == 2  # nothing is kept


@pytest.mark.anyio
async def test_set_and_remove_update_the_cache_at_once(store: SlowStore) -> None:
    service = service_for(store)
    await service.set_credential("openai", "sk-new")
    assert (await service.resolve("openai"))["secret"] == "sk-new"
    assert store.reads == 0
    await service.remove_credential("openai")
    with pytest.raises(Exception, match="no credential"):
        await service.resolve("openai")
    assert store.reads == 0


@pytest.mark.anyio
async def test_lock_forgets_and_the_next_resolve_reads_again(store: SlowStore) -> None:
    service = service_for(store)
    await service.resolve("openai")
    store.records["openai"] = Record(secret="sk-changed-outside")
    assert (await service.resolve("openai"))["secret"] == "sk-stored"
    assert service.lock()["forgotten"] >= 1
    assert (await service.resolve("openai"))["secret"] == "sk-changed-outside"
    assert store.reads == 2


@pytest.mark.anyio
async def test_the_idle_timeout_forgets_cached_secrets(store: SlowStore) -> None:
    service = service_for(store, cache_idle=0.2)
    await service.resolve("openai")
    with anyio.move_on_after(0.6):
        await service.expire_forever()
    assert len(service.cache) == 0
    await service.resolve("openai")
    assert store.reads == 2


@pytest.mark.anyio
async def test_a_hung_store_costs_its_callers_only(store: SlowStore) -> None:
    store.records["claude"] = Record(secret="sk-claude")
    service = service_for(store)
    await service.resolve("claude")
    store.gate.clear()
    try:
        with anyio.fail_after(3):
            with pytest.raises(StoreUnavailable, match="did not answer within 1s"):
                await service.resolve("openai")
            assert (await service.resolve("claude"))["secret"] == "sk-claude"  # cached
            assert service.providers()["providers"]
    finally:
        store.gate.set()
    assert (await service.resolve("openai"))["secret"] == "sk-stored"  # recovered


@pytest.mark.anyio
async def test_a_hung_store_does_not_pile_up_threads(store: SlowStore) -> None:
    service = CredentialService(store, "test", store_timeout=0.1, cache_idle=0)
    store.gate.clear()
    try:
        for _ in range(4):
            with pytest.raises(StoreUnavailable, match="did not answer"):
                await service.resolve("openai")
        with anyio.fail_after(0.05), pytest.raises(StoreUnavailable, match="4 earlier calls"):
            await service.resolve("openai")
    finally:
        store.gate.set()
    with anyio.fail_after(5):
        while service._guard.stuck:
            await anyio.sleep(0.01)
    assert (await service.resolve("openai"))["secret"] == "sk-stored"


@pytest.mark.anyio
@pytest.mark.parametrize("write", ["set", "remove"])
async def test_a_write_that_finishes_after_its_timeout_is_what_resolve_serves(
    store: SlowStore, write: str
) -> None:
    service = CredentialService(store, "test", store_timeout=0.2)
    assert (await service.resolve("openai"))["secret"] == "sk-stored"  # cached
    store.gate.clear()
    call = (
        service.set_credential("openai", "sk-late")
        if write == "set"
        else service.remove_credential("openai")
    )
    try:
        with pytest.raises(StoreUnavailable, match="did not answer"):
            await call
    finally:
        store.gate.set()
    with anyio.fail_after(5):
        while service._guard.stuck:  # the abandoned thread has returned
            await anyio.sleep(0.01)
    if write == "set":
        assert (await service.resolve("openai"))["secret"] == "sk-late"
    else:
        with pytest.raises(Exception, match="no credential"):
            await service.resolve("openai")


class Mangling(SlowStore):
    def get(self, provider: str) -> Record | None:
        got = super().get(provider)
        return Record(secret="sk-mangled") if got is not None else None


@pytest.mark.anyio
async def test_migration_verifies_before_deleting(
    store: SlowStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = Mangling()
    target.kind = "keyring"
    monkeypatch.setattr(migrate, "open_target", lambda kind, data_dir, timeout: target)
    service = service_for(store, data_dir=str(tmp_path))
    with pytest.raises(StoreUnavailable, match="did not read back the same; nothing was deleted"):
        await service.migrate_store("keyring")
    assert service.store is store
    assert "openai" in store.records


@pytest.mark.anyio
async def test_migration_moves_everything_and_switches(
    store: SlowStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.records["claude"] = Record(secret="sk-claude")
    target = SlowStore()
    target.kind = "keyring"
    target.records["groq"] = Record(secret="sk-groq")
    monkeypatch.setattr(migrate, "open_target", lambda kind, data_dir, timeout: target)
    service = service_for(store, data_dir=str(tmp_path))
    await service.resolve("openai")
    report = await service.migrate_store("keyring")
    assert report["moved"] == ["claude", "openai"]
    assert report["kept"] == ["groq"]
    assert store.records == {}
    assert service.store is target
    assert (tmp_path / "store-choice").read_text() == "keyring\n"
    assert (await service.resolve("claude"))["secret"] == "sk-claude"
