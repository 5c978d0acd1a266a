"""The file store: the store contract, plus modes, atomic writes, corruption, concurrency."""

from __future__ import annotations

import errno
import json
import os
import stat
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from nxuskit.errors import PermissionDenied, StoreUnavailable
from nxuskitd.stores import FileStore, Record
from tests.unit.store_contract import SECRET, StoreContract, record


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "data" / "nxuskit"  # not created yet: the store makes it


class TestFileStore(StoreContract):
    @pytest.fixture
    def store(self, directory: Path) -> FileStore:
        return FileStore(str(directory))


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in directory.iterdir() if p.is_file()}


@pytest.fixture
def permissive_umask() -> object:
    old = os.umask(0)
    yield
    os.umask(old)


# -- modes and layout ----------------------------------------------------------------------


@pytest.mark.usefixtures("permissive_umask")
def test_file_is_0600_and_directory_0700_even_under_umask_0(directory: Path) -> None:
    store = FileStore(str(directory))
    store.set("openai", record())
    assert mode(directory) == 0o700
    assert mode(directory / "credentials.json") == 0o600
    store.set("claude", record())  # a rewrite keeps the mode
    assert mode(directory / "credentials.json") == 0o600


def test_on_disk_format_is_the_documented_document(directory: Path) -> None:
    FileStore(str(directory)).set("openai", Record(secret=SECRET, updated_at=1.5))
    document = json.loads((directory / "credentials.json").read_text())
    assert set(document) == {"format", "credentials"}
    assert document["format"] == 1
    entry = document["credentials"]["openai"]
    assert entry["secret"] == SECRET
    assert entry["updated_at"] == 1.5
    assert entry.get("auth_method", "api_key") == "api_key"  # a default may be omitted


def test_reads_a_hand_written_document(directory: Path) -> None:
    credentials = {
        "openai": {"secret": "sk-hand", "auth_method": "api_key", "updated_at": 1764370000.0},
        "openrouter": {"secret": "sk-or", "auth_method": "oauth", "expires_at": 1764373600.0},
    }
    write_file(directory, json.dumps({"format": 1, "credentials": credentials}).encode())
    store = FileStore(str(directory))
    assert sorted(store.names()) == ["openai", "openrouter"]
    openrouter = store.get("openrouter")
    assert openrouter is not None
    assert (openrouter.secret, openrouter.auth_method) == ("sk-or", "oauth")
    assert openrouter.expires_at == 1764373600.0


def test_writes_leave_no_temporary_files(directory: Path) -> None:
    store = FileStore(str(directory))
    for n in range(20):
        store.set(f"p{n % 5}", record(f"sk-{n}"))
        if n % 3 == 0:
            store.delete(f"p{(n + 1) % 5}")
    assert sorted(p.name for p in directory.iterdir()) == ["credentials.json", "credentials.lock"]


@pytest.mark.parametrize("failing", ["fsync", "rename", "write"])
def test_failed_write_keeps_the_old_file_and_no_temporary(
    directory: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    store = FileStore(str(directory))
    store.set("openai", record("sk-old"))
    before = snapshot(directory)

    def fail(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(os, failing, fail)
    with pytest.raises(StoreUnavailable) as caught:
        store.set("openai", record("sk-new-value"))
    monkeypatch.undo()

    assert str(directory / "credentials.json") in str(caught.value)
    assert "sk-new-value" not in str(caught.value)
    assert snapshot(directory) == before
    got = FileStore(str(directory)).get("openai")
    assert got is not None
    assert got.secret == "sk-old"


# -- refusing unsafe or unreadable files, never resetting them -----------------------------


def write_file(directory: Path, content: bytes, file_mode: int = 0o600) -> Path:
    directory.mkdir(parents=True, mode=0o700, exist_ok=True)
    path = directory / "credentials.json"
    path.write_bytes(content)
    path.chmod(file_mode)
    return path


def attempts(store: FileStore) -> list[Callable[[], object]]:
    return [
        lambda: store.get("openai"),
        store.names,
        lambda: store.set("claude", record("sk-would-overwrite")),
        lambda: store.delete("openai"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        b'{"format": 1, "credentials": {"openai": ',
        b"\x00\x01garbage",
        b"",
        b'["not", "an", "object"]',
        b'{"format": 1, "credentials": {"openai": {"secret": 5}}}',
    ],
    ids=["truncated", "binary", "empty", "array", "wrong field type"],
)
def test_corrupt_file_is_store_unavailable_and_left_byte_identical(
    directory: Path, content: bytes
) -> None:
    path = write_file(directory, content)
    store = FileStore(str(directory))
    for attempt in attempts(store):
        with pytest.raises(StoreUnavailable) as caught:
            attempt()
        assert str(path) in str(caught.value)
    assert path.read_bytes() == content


def test_corrupt_file_error_quotes_none_of_its_content(directory: Path) -> None:
    content = json.dumps(
        {
            "format": 1,
            "credentials": {SECRET: 5, "openai": {"secret": SECRET, "expires_at": SECRET}},
        }
    ).encode()
    write_file(directory, content)
    with pytest.raises(StoreUnavailable) as caught:
        FileStore(str(directory)).get("openai")
    assert SECRET not in str(caught.value)


def test_file_readable_by_others_is_permission_denied_naming_chmod(directory: Path) -> None:
    content = json.dumps({"format": 1, "credentials": {"openai": {"secret": SECRET}}}).encode()
    path = write_file(directory, content, 0o644)
    store = FileStore(str(directory))
    for attempt in attempts(store):
        with pytest.raises(PermissionDenied) as caught:
            attempt()
        message = str(caught.value)
        assert "chmod 600" in message
        assert str(path) in message
        assert SECRET not in message
    assert path.read_bytes() == content
    assert mode(path) == 0o644  # reported, not silently "fixed"


def test_directory_open_to_others_refuses_writes_naming_chmod(directory: Path) -> None:
    directory.mkdir(parents=True)
    directory.chmod(0o755)
    with pytest.raises(PermissionDenied) as caught:
        FileStore(str(directory)).set("openai", record())
    assert f"chmod 700 {directory}" in str(caught.value)
    assert not (directory / "credentials.json").exists()


def test_newer_format_version_is_refused(directory: Path) -> None:
    content = b'{"format": 2, "credentials": {}}'
    path = write_file(directory, content)
    store = FileStore(str(directory))
    with pytest.raises(StoreUnavailable) as caught:
        store.get("openai")
    assert "format 2" in str(caught.value)
    assert str(path) in str(caught.value)
    with pytest.raises(StoreUnavailable):
        store.set("openai", record())
    assert path.read_bytes() == content


def test_symlinked_file_is_refused_and_its_target_untouched(
    directory: Path, tmp_path: Path
) -> None:
    directory.mkdir(parents=True, mode=0o700)
    target = tmp_path / "elsewhere.json"
    target.write_bytes(b'{"format": 1, "credentials": {}}')
    target.chmod(0o600)
    (directory / "credentials.json").symlink_to(target)
    store = FileStore(str(directory))
    with pytest.raises(StoreUnavailable):
        store.get("openai")
    with pytest.raises(StoreUnavailable):
        store.set("openai", record())
    assert target.read_bytes() == b'{"format": 1, "credentials": {}}'


# -- sharing and concurrency ---------------------------------------------------------------


def test_two_instances_see_each_others_writes(directory: Path) -> None:
    first, second = FileStore(str(directory)), FileStore(str(directory))
    assert second.get("openai") is None  # warm second's view of the (absent) file
    first.set("openai", record("sk-aaaa"))
    got = second.get("openai")
    assert got is not None
    assert got.secret == "sk-aaaa"

    second.set("openai", record("sk-bbbb"))  # same length: the cache must not be fooled
    got = first.get("openai")
    assert got is not None
    assert got.secret == "sk-bbbb"

    second.set("claude", record("sk-claude"))
    first.set("groq", record("sk-groq"))  # first must merge, not overwrite, second's claude
    assert sorted(second.names()) == ["claude", "groq", "openai"]

    assert first.delete("claude") is True
    assert second.get("claude") is None
    assert second.delete("claude") is False


def run_threads(count: int, work: Callable[[int], None]) -> None:
    failures: list[BaseException] = []
    start = threading.Barrier(count)

    def body(n: int) -> None:
        try:
            start.wait()
            work(n)
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=body, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not failures, failures


def test_concurrent_sets_on_one_instance_lose_nothing(directory: Path) -> None:
    store = FileStore(str(directory))

    def work(n: int) -> None:
        for k in range(5):
            store.set(f"t{n}-p{k}", record(f"sk-{n}-{k}"))

    run_threads(8, work)
    expected = sorted(f"t{n}-p{k}" for n in range(8) for k in range(5))
    assert sorted(store.names()) == expected
    fresh = FileStore(str(directory))
    for name in expected:
        got = fresh.get(name)
        assert got is not None
        assert got.secret == "sk-" + name[1:].replace("-p", "-")


def test_concurrent_sets_from_separate_instances_lose_nothing(directory: Path) -> None:
    # Separate instances share only the file and its flock, like two daemons would.
    def work(n: int) -> None:
        store = FileStore(str(directory))
        for k in range(5):
            store.set(f"t{n}-p{k}", record(f"sk-{n}-{k}"))
        store.delete(f"t{n}-p0")

    run_threads(8, work)
    expected = sorted(f"t{n}-p{k}" for n in range(8) for k in range(1, 5))
    assert sorted(FileStore(str(directory)).names()) == expected


def test_a_write_sweeps_temporaries_a_crashed_writer_left(directory: Path) -> None:
    store = FileStore(str(directory))
    store.set("openai", record())
    leftover = directory / "credentials.json.deadbeef0000.tmp"
    leftover.write_text('{"format":1,"credentials":{"openai":{"secret":"sk-old"}}}')
    unrelated = directory / "notes.tmp"
    unrelated.write_text("not ours")
    store.set("groq", record())
    assert not leftover.exists()
    assert unrelated.exists()


# -- the fingerprint the daemon's cache checks ------------------------------------------


def test_fingerprint_moves_with_what_another_process_or_the_user_does(directory: Path) -> None:
    mine, theirs = FileStore(str(directory)), FileStore(str(directory))
    mine.set("openai", record())
    seen = mine.fingerprint()
    theirs.set("claude", record())  # another daemon sharing the file
    assert mine.fingerprint() != seen
    seen = mine.fingerprint()
    (directory / "credentials.json").chmod(0o644)
    assert mine.fingerprint() != seen
    (directory / "credentials.json").chmod(0o600)
    seen = mine.fingerprint()
    (directory / "credentials.json").rename(directory.parent / "away.json")
    assert mine.fingerprint() != seen
    seen = mine.fingerprint()
    directory.chmod(0o755)
    assert mine.fingerprint() != seen
