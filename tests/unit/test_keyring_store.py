"""The keyring store over an in-memory backend that keeps Windows' size limit.

The same store runs the contract against the real Secret Service in
tests/integration/test_keyring.py; here the record format itself is pinned down: the
documented JSON, chunking past the size limit, crash safety, damage detection, errors.
"""

from __future__ import annotations

import json
import re

import pytest
from keyring.errors import KeyringLocked, PasswordDeleteError

from nxuskit.errors import StoreUnavailable
from nxuskitd.stores import Record
from nxuskitd.stores.keyring import CHUNK_CHARS, INDEX, KeyringStore
from tests.unit.store_contract import SECRET, StoreContract, record

LIMIT_BYTES = 2560  # Windows Credential Manager's CRED_MAX_CREDENTIAL_BLOB_SIZE, in UTF-16


class MemoryBackend:
    """A keyring backend in a dict, refusing values over ``LIMIT_BYTES`` of UTF-16."""

    def __init__(self) -> None:
        self.entries: dict[tuple[str, str], str] = {}
        self.gets = 0
        self.fail_on: str | None = None  # a user name whose next set raises

    def get_password(self, service: str, username: str) -> str | None:
        self.gets += 1
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        if self.fail_on is not None and re.fullmatch(self.fail_on, username):
            raise OSError(f"simulated failure storing {password}")
        if len(password.encode("utf-16-le")) > LIMIT_BYTES:
            raise ValueError(f"{len(password)} characters is over the backend's limit")
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.entries.pop((service, username), None) is None:
            raise PasswordDeleteError("no such password")

    def users(self) -> dict[str, str]:
        return {user: value for (_, user), value in self.entries.items()}


@pytest.fixture
def backend() -> MemoryBackend:
    return MemoryBackend()


@pytest.fixture
def store(backend: MemoryBackend) -> KeyringStore:
    return KeyringStore(backend, "Memory (keyring)")


class TestKeyringStoreInMemory(StoreContract):
    @pytest.fixture
    def store(self) -> KeyringStore:
        return KeyringStore(MemoryBackend(), "Memory (keyring)")


def test_a_short_record_is_one_documented_json_entry(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    store.set("openai", Record(secret=SECRET, updated_at=1700000000.0))
    users = backend.users()
    assert set(users) == {"openai", INDEX}
    assert json.loads(users["openai"]) == {
        "nxuskit": 1,
        "record": {"secret": SECRET, "auth_method": "api_key", "updated_at": 1700000000.0},
    }
    assert json.loads(users[INDEX]) == {"nxuskit": 1, "providers": ["openai"]}
    assert all(value.isascii() for value in users.values())


def test_a_long_record_is_chunked_under_the_limit(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    long_secret = "é" + "k" * 15000  # non-ASCII too: stored as \\u escapes
    store.set("openrouter", record(long_secret))
    users = backend.users()
    header = json.loads(users["openrouter"])
    assert header["nxuskit"] == 1
    assert header["chunks"] == len([u for u in users if u.startswith("openrouter:")])
    assert header["chunks"] > 1
    assert all(len(value) <= CHUNK_CHARS + 100 for value in users.values())
    got = store.get("openrouter")
    assert got is not None
    assert got.secret == long_secret


def test_replacing_a_chunked_record_leaves_no_old_chunks(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    store.set("openrouter", record("x" * 5000))
    first = {u for u in backend.users() if u.startswith("openrouter:")}
    store.set("openrouter", record("y" * 5000))
    second = {u for u in backend.users() if u.startswith("openrouter:")}
    assert first.isdisjoint(second)
    store.set("openrouter", record("short"))
    assert [u for u in backend.users() if u.startswith("openrouter")] == ["openrouter"]
    assert store.delete("openrouter") is True
    assert set(backend.users()) == set()


def test_a_write_that_fails_midway_keeps_the_old_record(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    store.set("openrouter", record("old-" + "o" * 3000))
    backend.fail_on = "openrouter"  # new chunks are written, then the header fails
    with pytest.raises(StoreUnavailable):
        store.set("openrouter", record("new-" + "n" * 3000))
    got = store.get("openrouter")
    assert got is not None
    assert got.secret.startswith("old-")


def test_a_damaged_chunk_is_an_error_without_the_secret(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    store.set("openrouter", record(SECRET + "z" * 3000))
    chunk = next(key for key in backend.entries if key[1].startswith("openrouter:"))
    backend.entries[chunk] = backend.entries[chunk][:-1] + "!"
    with pytest.raises(StoreUnavailable, match="damaged") as caught:
        store.get("openrouter")
    assert SECRET not in str(caught.value)
    assert "nxuskit-cli provider remove openrouter" in str(caught.value)


def test_a_missing_chunk_is_an_error(store: KeyringStore, backend: MemoryBackend) -> None:
    store.set("openrouter", record("z" * 3000))
    chunk = next(key for key in backend.entries if key[1].startswith("openrouter:"))
    del backend.entries[chunk]
    with pytest.raises(StoreUnavailable, match="missing"):
        store.get("openrouter")


def test_a_bare_value_set_by_hand_reads_as_an_api_key(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    backend.entries[("nxuskit", "groq")] = "gsk-by-hand\n"
    got = store.get("groq")
    assert got is not None
    assert (got.secret, got.auth_method) == ("gsk-by-hand", "api_key")


def test_names_reads_the_index_only(store: KeyringStore, backend: MemoryBackend) -> None:
    for name in ("openai", "claude", "groq"):
        store.set(name, record())
    backend.gets = 0
    assert store.names() == ["claude", "groq", "openai"]
    assert backend.gets == 1


def test_a_locked_keyring_says_so(backend: MemoryBackend) -> None:
    def locked(service: str, username: str) -> str | None:
        raise KeyringLocked("Failed to unlock the collection!")

    backend.get_password = locked  # type: ignore[method-assign]
    store = KeyringStore(backend, "Secret Service (keyring)")
    with pytest.raises(StoreUnavailable, match=r"Secret Service\) is locked.*unlock it"):
        store.get("openai")


def test_backend_errors_never_repeat_the_secret(
    store: KeyringStore, backend: MemoryBackend
) -> None:
    backend.fail_on = ".*"
    with pytest.raises(StoreUnavailable) as caught:
        store.set("openai", record())
    assert SECRET not in str(caught.value)
    assert "OSError" in str(caught.value)


def test_each_store_has_its_own_service_name(backend: MemoryBackend) -> None:
    KeyringStore(backend, "Memory (keyring)", service="nxuskit-a").set("openai", record("a"))
    other = KeyringStore(backend, "Memory (keyring)", service="nxuskit-b")
    assert other.get("openai") is None
    assert {service for service, _ in backend.entries} == {"nxuskit-a"}
