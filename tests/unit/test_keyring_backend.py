"""Choosing the OS keyring backend: real ones accepted, stand-ins refused, hangs bounded."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from nxuskit.errors import StoreUnavailable
from nxuskitd.stores import FileStore, Record, open_store, record_choice
from nxuskitd.stores import keyring_backend as kb
from nxuskitd.stores.keyring_backend import BackendChoice, describe, refusal, usable_backend


def fake(module: str, name: str, priority: object) -> type:
    """A stand-in backend class (not a KeyringBackend, so keyring never registers it)."""
    return type(name, (), {"__module__": module, "priority": priority})


class Raises:
    @property
    def priority(self) -> float:
        raise RuntimeError("The Secret Service daemon is neither running nor activatable")


@pytest.mark.parametrize(
    ("cls", "expected"),
    [
        (fake("keyrings.alt.file", "PlaintextKeyring", 0.5), "keyrings.alt"),
        (fake("keyrings.alt.file", "EncryptedKeyring", 5), "keyrings.alt"),
        (fake("keyring.backends.fail", "Keyring", 0), "found no backend"),
        (fake("keyring.backends.null", "Keyring", -1), "disabled"),
        (fake("keyring.backends.chainer", "ChainerBackend", 10), "forwards"),
        (fake("some.plugin", "Weak", 0.5), "not a recommended backend"),
    ],
)
def test_stand_ins_are_refused(cls: type, expected: str) -> None:
    reason = refusal(cls)
    assert reason is not None
    assert expected in reason


def test_a_real_backend_is_accepted() -> None:
    assert refusal(fake("keyring.backends.SecretService", "Keyring", 5)) is None
    assert refusal(fake("keyring.backends.macOS", "Keyring", 5)) is None


def test_a_backend_that_cannot_work_here_gives_its_reason() -> None:
    reason = refusal(type(Raises()), priority=kb.priority_of(Raises))
    assert reason is not None


def test_descriptions_are_human() -> None:
    from keyring.backends import SecretService, macOS

    assert describe(SecretService.Keyring()) == "Secret Service (keyring)"
    assert describe(macOS.Keyring()) == "macOS Keychain (keyring)"


@pytest.mark.parametrize(
    ("configured", "expected"),
    [
        ("keyring.backends.null.Keyring", "disabled"),
        ("keyring.backends.fail.Keyring", "found no backend"),
    ],
)
def test_a_configured_stand_in_is_refused(
    monkeypatch: pytest.MonkeyPatch, configured: str, expected: str
) -> None:
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", configured)
    choice = usable_backend(5)
    assert not choice.usable
    assert "PYTHON_KEYRING_BACKEND" in choice.reason
    assert expected in choice.reason


def test_no_session_bus_means_no_keyring_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    monkeypatch.delenv("PYTHON_KEYRING_BACKEND", raising=False)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))  # no keyringrc.cfg
    choice = usable_backend(5)
    assert not choice.usable
    assert "Secret Service" in choice.reason
    assert "DBUS_SESSION_BUS_ADDRESS" in choice.reason


def test_a_hung_probe_is_abandoned_within_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()

    def hang() -> BackendChoice:
        release.wait(10)
        return BackendChoice(object(), "late", "too late")

    monkeypatch.setattr(kb, "_choose", hang)
    started = time.monotonic()
    try:
        choice = usable_backend(0.3)
    finally:
        release.set()
    assert time.monotonic() - started < 2
    assert not choice.usable
    assert "did not answer within 0.3s" in choice.reason


def unusable(timeout: float = 5.0) -> BackendChoice:
    return BackendChoice(None, "", "Secret Service: no session bus")


def usable(timeout: float = 5.0) -> BackendChoice:
    return BackendChoice(object(), "Fake Service (keyring)", "Fake Service (keyring) is available")


def test_open_store_keyring_fails_clearly_without_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kb, "usable_backend", unusable)
    with pytest.raises(StoreUnavailable, match="--store keyring: no usable OS keyring: Secret"):
        open_store("keyring", str(tmp_path))


def test_open_store_auto_falls_back_to_the_file_and_says_why(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kb, "usable_backend", unusable)
    store, reason = open_store("auto", str(tmp_path))
    assert store.kind == "file"
    assert reason == "no OS keyring found: Secret Service: no session bus"


def test_open_store_auto_picks_a_usable_keyring(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kb, "usable_backend", usable)
    store, reason = open_store("auto", str(tmp_path))
    assert (store.kind, store.description) == ("keyring", "Fake Service (keyring)")
    assert reason.startswith("auto: ")


def test_auto_keeps_a_file_store_that_holds_credentials(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kb, "usable_backend", usable)
    FileStore(str(tmp_path)).set("openai", Record(secret="sk-old"))
    store, reason = open_store("auto", str(tmp_path))
    assert store.kind == "file"
    assert "store migrate --to keyring" in reason


def test_auto_advises_no_migration_where_no_keyring_is_usable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kb, "usable_backend", unusable)
    FileStore(str(tmp_path)).set("openai", Record(secret="sk-old"))
    store, reason = open_store("auto", str(tmp_path))
    assert store.kind == "file"
    assert "migrate" not in reason
    assert reason == (
        "auto: the file store holds credentials; no OS keyring to move them to: "
        "Secret Service: no session bus"
    )


def test_auto_follows_the_last_migration(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(kb, "usable_backend", usable)
    record_choice(str(tmp_path), "file")
    assert open_store("auto", str(tmp_path))[0].kind == "file"
    record_choice(str(tmp_path), "keyring")
    FileStore(str(tmp_path)).set("openai", Record(secret="sk-left"))
    assert open_store("auto", str(tmp_path))[0].kind == "keyring"
    assert (tmp_path / "store-choice").stat().st_mode & 0o077 == 0
