"""The client's stdlib path rules agree with platformdirs, which the daemon uses."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs
import pytest

from nxuskit import paths

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the XDG rules are the Linux ones"
)


@pytest.fixture
def xdg(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Private 0700 XDG directories, as a login session provides them."""
    root = tmp_path / "xdg"
    root.mkdir(mode=0o700)
    for name in ("run", "config", "data", "state"):
        (root / name).mkdir(mode=0o700)
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(root / "run"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    monkeypatch.setenv("XDG_DATA_HOME", str(root / "data"))
    monkeypatch.setenv("XDG_STATE_HOME", str(root / "state"))
    monkeypatch.delenv("NXUSKIT_SOCKET", raising=False)
    return root


def test_socket_lives_in_platformdirs_runtime_dir(xdg: Path) -> None:
    expected_dir = platformdirs.user_runtime_dir("nxuskit", appauthor=False)
    assert os.path.dirname(paths.socket_path()) == expected_dir
    assert paths.socket_path() == str(xdg / "run" / "nxuskit" / "nxuskitd.sock")
    assert paths.runtime_dir() == str(xdg / "run")


def test_config_path_is_in_platformdirs_config_dir(xdg: Path) -> None:
    assert paths.config_dir() == platformdirs.user_config_dir("nxuskit", appauthor=False)
    assert paths.config_path() == str(xdg / "config" / "nxuskit" / "config.toml")


def test_state_dir_is_platformdirs_state_dir(xdg: Path) -> None:
    assert paths.state_dir() == platformdirs.user_state_dir("nxuskit", appauthor=False)


def test_defaults_follow_home_when_xdg_config_is_unset(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    monkeypatch.delenv("XDG_STATE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.config_dir() == platformdirs.user_config_dir("nxuskit", appauthor=False)
    assert paths.config_dir() == str(tmp_path / "home" / ".config" / "nxuskit")
    assert paths.state_dir() == platformdirs.user_state_dir("nxuskit", appauthor=False)


def test_blank_xdg_variable_counts_as_unset(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", "  ")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert paths.config_dir() == str(tmp_path / "home" / ".config" / "nxuskit")


def test_nxuskit_socket_overrides(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    chosen = tmp_path / "elsewhere" / "my.sock"
    monkeypatch.setenv("NXUSKIT_SOCKET", str(chosen))
    assert paths.socket_path() == str(chosen)


def test_relative_nxuskit_socket_is_made_absolute(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NXUSKIT_SOCKET", "rel/d.sock")
    assert paths.socket_path() == str(tmp_path / "rel" / "d.sock")


def test_blank_nxuskit_socket_is_ignored(xdg: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NXUSKIT_SOCKET", "   ")
    assert paths.socket_path() == str(xdg / "run" / "nxuskit" / "nxuskitd.sock")


def test_runtime_dir_fallback_without_xdg_runtime_dir(
    xdg: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XDG_RUNTIME_DIR")
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    uid = os.getuid()
    expected = (
        f"/run/user/{uid}"
        if os.path.isdir(f"/run/user/{uid}")
        else str(tmp_path / f"runtime-{uid}")
    )
    assert paths.runtime_dir() == expected


def test_lock_paths_sit_beside_the_socket() -> None:
    assert paths.lock_path("/r/nxuskit/nxuskitd.sock") == "/r/nxuskit/nxuskitd.sock.lock"
    assert (
        paths.start_lock_path("/r/nxuskit/nxuskitd.sock") == "/r/nxuskit/nxuskitd.sock.start.lock"
    )
