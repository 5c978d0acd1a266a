"""Fixtures for the unit tests: anyio's own pytest plugin on asyncio, and a clean client env.

Unit tests start no daemon and no subprocess (except the fresh-interpreter import
checks); async tests are marked ``@pytest.mark.anyio``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.client import reset_default

PROVIDER_ENV_VARS = sorted(
    {spec.env for spec in registry.BUILTIN if spec.env}
    | {spec.host_env for spec in registry.BUILTIN if spec.host_env}
)


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """anyio's plugin runs ``@pytest.mark.anyio`` tests on this backend only."""
    return "asyncio"


@pytest.fixture
def client_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """No provider variables, a private config dir (no config.toml), autostart off.

    Yields the directory that ``config.toml`` would live in.
    """
    for name in PROVIDER_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NXUSKIT_SOCKET", raising=False)
    config_home = tmp_path / "config"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(config_home))
    monkeypatch.setenv("NXUSKIT_AUTOSTART", "0")
    reset_default()
    yield config_home / "nxuskit"
    reset_default()
