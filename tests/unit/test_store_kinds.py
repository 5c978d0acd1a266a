"""The kinds of store live in one table (``nxuskitd.stores.STORES``), and everything that
chooses a store follows it: ``--store``, ``auto``, ``store.migrate``'s target and the
choice a migration records. A new kind is one class with ``open`` and one table entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from nxuskit import protocol
from nxuskit.errors import InvalidArgument, StoreUnavailable
from nxuskitd import options
from nxuskitd.credentials import CredentialService
from nxuskitd.stores import CHOICES, STORES, FileStore, Record, Store, open_store
from nxuskitd.stores import keyring_backend as kb
from tests.unit.store_contract import StoreContract

pytestmark = pytest.mark.anyio


class MemoryStore(Store):
    """A kind of store that exists only in this test."""

    kind = "memory"
    noun = "memory store"
    opened: list[MemoryStore] = []  # noqa: RUF012 - shared on purpose: what open() made

    def __init__(self) -> None:
        self.records: dict[str, Record] = {}
        self.found = "memory is always there"

    @classmethod
    def open(cls, data_dir: str, timeout: float) -> MemoryStore:
        store = cls()
        cls.opened.append(store)
        return store

    @property
    def description(self) -> str:
        return "memory (test)"

    def get(self, provider: str) -> Record | None:
        return self.records.get(provider)

    def set(self, provider: str, record: Record) -> None:
        self.records[provider] = record

    def delete(self, provider: str) -> bool:
        return self.records.pop(provider, None) is not None

    def names(self) -> list[str]:
        return sorted(self.records)


class TestMemoryStore(StoreContract):
    """The contract every kind passes, this one included."""

    @pytest.fixture
    def store(self) -> Store:
        return MemoryStore()


@pytest.fixture
def memory_kind(monkeypatch: pytest.MonkeyPatch) -> type[MemoryStore]:
    MemoryStore.opened.clear()
    monkeypatch.setitem(STORES, "memory", MemoryStore)
    return MemoryStore


def test_the_table_is_the_wire_s_list_of_kinds() -> None:
    assert tuple(STORES) == protocol.STORE_KINDS
    assert ("auto", *protocol.STORE_KINDS) == CHOICES
    for kind, cls in STORES.items():
        assert cls.kind == kind
        assert "open" in vars(cls), f"{cls.__name__} must open itself"


@pytest.mark.parametrize("kind", CHOICES)
def test_the_daemon_s_store_flag_takes_every_kind(kind: str) -> None:
    assert options.from_args(["--store", kind]).store == kind


def test_the_daemon_s_store_flag_refuses_others(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        options.from_args(["--store", "memory"])
    assert "invalid choice" in capsys.readouterr().err


def test_a_kind_in_the_table_is_opened_by_name(
    memory_kind: type[MemoryStore], tmp_path: Path
) -> None:
    store, reason = open_store("memory", str(tmp_path))
    assert store is memory_kind.opened[-1]
    assert reason == "chosen with --store memory"


def test_a_kind_that_cannot_serve_says_why_and_what_else_to_choose(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        kb, "usable_backend", lambda timeout=5.0: kb.BackendChoice(None, "", "no bus")
    )
    with pytest.raises(StoreUnavailable) as caught:
        open_store("keyring", str(tmp_path))
    assert caught.value.message == (
        "--store keyring: no usable OS keyring: no bus. Use --store auto or --store file, "
        "or see Troubleshooting in the README"
    )


async def test_migration_goes_to_any_kind_in_the_table(
    memory_kind: type[MemoryStore], tmp_path: Path
) -> None:
    data = str(tmp_path / "data" / "nxuskit")
    service = CredentialService(FileStore(data), "test", data_dir=data)
    await service.set_credential("openai", "sk-to-memory-5e1")
    moved = await service.migrate_store("memory")
    assert (moved.source.kind, moved.target.kind, moved.moved) == ("file", "memory", ["openai"])
    assert memory_kind.opened[-1].records["openai"].secret == "sk-to-memory-5e1"
    # auto follows the recorded choice, whatever kind it names
    store, _ = open_store("auto", data)
    assert store.kind == "memory"


async def test_migration_refuses_a_kind_outside_the_table(tmp_path: Path) -> None:
    data = str(tmp_path / "data" / "nxuskit")
    service = CredentialService(FileStore(data), "test", data_dir=data)
    with pytest.raises(InvalidArgument, match="to: choose keyring or file, not 'memory'"):
        await service.migrate_store("memory")
