"""The store contract, run by the keyring store against the real Secret Service."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest

from nxuskitd.stores.keyring import KeyringStore
from tests.integration.secret_service import SecretService
from tests.unit.store_contract import StoreContract


class TestKeyringStoreOnSecretService(StoreContract):
    @pytest.fixture
    def store(
        self, secret_service: SecretService, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[KeyringStore]:
        from keyring.backends import SecretService as backend

        monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", secret_service.address)
        service = f"nxuskit-contract-{secrets.token_hex(4)}"
        try:
            yield KeyringStore(backend.Keyring(), "Secret Service (keyring)", service=service)
        finally:
            secret_service.wipe(service)

    @pytest.mark.timeout(300)
    def test_many_providers(self, store: KeyringStore) -> None:  # type: ignore[override]
        # ~1,000 D-Bus calls, and gnome-keyring re-encrypts its file on every write
        super().test_many_providers(store)
