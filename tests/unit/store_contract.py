"""The contract every credential store passes (like keyring's BackendBasicTests).

A store's test module subclasses ``StoreContract`` and provides a ``store`` fixture that
yields a fresh, empty store::

    class TestFileStore(StoreContract):
        @pytest.fixture
        def store(self, tmp_path):
            return FileStore(str(tmp_path / "nxuskit"))
"""

from __future__ import annotations

import time

import pytest

from nxuskitd.stores import Record, Store

SECRET = "sk-contract-3a9f1c7be2d04e18"


def record(secret: str = SECRET, **fields: object) -> Record:
    return Record(secret=secret, **fields)  # type: ignore[arg-type]


class StoreContract:
    """Get / set / delete / names semantics shared by every store."""

    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("a store test class provides the `store` fixture")

    def test_empty_store(self, store: Store) -> None:
        assert store.get("openai") is None
        assert list(store.names()) == []

    def test_set_then_get(self, store: Store) -> None:
        store.set("openai", record())
        got = store.get("openai")
        assert got is not None
        assert got.secret == SECRET
        assert got.auth_method == "api_key"

    def test_get_returns_every_field(self, store: Store) -> None:
        written = Record(
            secret=SECRET, auth_method="oauth", updated_at=1700000000.5, expires_at=1700003600.0
        )
        store.set("openrouter", written)
        assert store.get("openrouter") == written

    def test_set_overwrites(self, store: Store) -> None:
        store.set("openai", record("sk-first"))
        store.set("openai", record("sk-second"))
        got = store.get("openai")
        assert got is not None
        assert got.secret == "sk-second"
        assert list(store.names()) == ["openai"]

    def test_providers_are_independent(self, store: Store) -> None:
        store.set("openai", record("sk-openai"))
        store.set("claude", record("sk-claude"))
        store.delete("openai")
        claude = store.get("claude")
        assert claude is not None
        assert claude.secret == "sk-claude"
        assert store.get("openai") is None

    def test_delete_existing_returns_true(self, store: Store) -> None:
        store.set("groq", record())
        assert store.delete("groq") is True
        assert store.get("groq") is None
        assert "groq" not in store.names()

    def test_delete_missing_returns_false(self, store: Store) -> None:
        assert store.delete("groq") is False
        store.set("groq", record())
        assert store.delete("groq") is True
        assert store.delete("groq") is False

    def test_names_lists_exactly_the_stored_providers(self, store: Store) -> None:
        for name in ("openai", "claude", "my.custom-provider_2"):
            store.set(name, record())
        store.delete("claude")
        assert sorted(store.names()) == ["my.custom-provider_2", "openai"]

    @pytest.mark.parametrize(
        "secret",
        ["ключ-秘密-🔑-ñ", "sk-" + "x" * 16000, 'quote " backslash \\ slash /', " padded "],
        ids=["unicode", "long", "json metacharacters", "spaces"],
    )
    def test_secrets_round_trip_exactly(self, store: Store, secret: str) -> None:
        store.set("openai", record(secret))
        got = store.get("openai")
        assert got is not None
        assert got.secret == secret

    def test_many_providers(self, store: Store) -> None:
        names = [f"provider-{n:03d}" for n in range(120)]
        for name in names:
            store.set(name, record(f"sk-{name}"))
        assert sorted(store.names()) == names
        for name in names[::7]:
            got = store.get(name)
            assert got is not None
            assert got.secret == f"sk-{name}"

    def test_updated_at_defaults_to_now(self, store: Store) -> None:
        before = time.time()
        store.set("openai", Record(secret=SECRET))
        got = store.get("openai")
        assert got is not None
        assert before - 1 <= got.updated_at <= time.time() + 1

    def test_record_repr_and_str_hide_the_secret(self, store: Store) -> None:
        store.set("openai", record())
        got = store.get("openai")
        assert got is not None
        for shown in (repr(got), str(got), f"{got}", f"{got!r}", repr([got]), repr({"k": got})):
            assert SECRET not in shown
            assert "***" in shown or "Record" in shown

    def test_record_rich_repr_hides_the_secret(self) -> None:
        rich_pretty = pytest.importorskip("rich.pretty")
        assert SECRET not in rich_pretty.pretty_repr(record())

    def test_refresh_token_round_trips_and_never_shows(self, store: Store) -> None:
        if "refresh_token" not in Record.__struct_fields__:
            pytest.skip("Record has no refresh_token field in this build")
        refresh = "rt-contract-7d2e0a9c41"
        written = Record(
            secret=SECRET, auth_method="oauth", expires_at=1700003600.0, refresh_token=refresh
        )  # type: ignore[call-arg,unused-ignore]
        store.set("openrouter", written)
        got = store.get("openrouter")
        assert got == written
        rich_pretty = pytest.importorskip("rich.pretty")
        for text in (repr(got), str(got), rich_pretty.pretty_repr(got)):
            assert refresh not in text
            assert SECRET not in text

    def test_store_description_holds_no_secret(self, store: Store) -> None:
        store.set("openai", record())
        assert SECRET not in store.description
        assert SECRET not in repr(store)
        assert store.kind in store.description

    def test_fingerprint_is_stable_and_moves_with_every_change(self, store: Store) -> None:
        """The cache's coherence check: a token that changes with the store (None: the
        store has no cheap check, documented as such)."""
        first = store.fingerprint()
        assert store.fingerprint() == first
        store.set("openai", record())
        if first is None:
            assert store.fingerprint() is None
            return
        written = store.fingerprint()
        assert written != first
        assert store.get("openai") is not None
        assert store.fingerprint() == written  # reading changes nothing
        store.delete("openai")
        assert store.fingerprint() not in (first, written)
