"""config.toml counts only when nobody else can have written it (issue 9, item 3).

It says where logins and keys go (token_url, authorize_url, default_host), so, as ssh does
for ~/.ssh/config, a file or directory above it that another user owns or can write makes
nxuskit ignore the whole file: the built-ins are still served, and the message says what
to fix. The attacks themselves, run as another uid, are in tests/integration/test_config_trust.py.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.errors import PermissionDenied

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")
NOBODY = 65534
TEXT = '[providers.acme]\nenv = "ACME_KEY"\n'


def config(directory: Path, mode: int = 0o644) -> Path:
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    path = directory / "config.toml"
    path.write_text(TEXT)
    path.chmod(mode)
    return path


def refusal(path: Path) -> str:
    reg = registry.load(str(path))
    assert isinstance(reg.error, PermissionDenied), reg.error
    assert reg.find("acme") is None  # nothing of the file is used
    assert reg.get("openai").env == "OPENAI_API_KEY"  # the built-ins are
    with pytest.raises(PermissionDenied, match="'acme' is no built-in provider"):
        reg.get("acme")
    return reg.error.message


def test_a_private_file_is_used(tmp_path: Path) -> None:
    assert registry.load(str(config(tmp_path / "nxuskit"))).get("acme").env == "ACME_KEY"


def test_a_file_others_can_write_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = config(tmp_path / "nxuskit", 0o666)
    message = refusal(path)
    assert f"{path} is writable by others (mode 0666), so it is not used" in message
    assert f"`chmod go-w {path}`" in message
    path.chmod(0o644)
    assert registry.load(str(path)).get("acme").env == "ACME_KEY"


@ROOT_ONLY
def test_a_file_of_another_user_is_refused(tmp_path: Path) -> None:
    path = config(tmp_path / "nxuskit")
    os.chown(path, NOBODY, NOBODY)
    message = refusal(path)
    assert f"{path} belongs to uid {NOBODY} (nobody), not to you" in message
    assert f"`cp {path} {path}.new && mv {path}.new {path}`" in message
    assert "chmod" not in message  # you cannot chmod another user's file


@ROOT_ONLY
def test_group_write_counts_unless_the_group_is_yours_alone(tmp_path: Path) -> None:
    path = config(tmp_path / "nxuskit", 0o664)
    os.chown(path, 0, 100)  # "users": a group others belong to, or may join
    assert "writable by others (mode 0664)" in refusal(path)
    os.chown(path, 0, 0)  # root's own group, as a user-private group (umask 002) is
    assert registry.load(str(path)).get("acme").env == "ACME_KEY"


def test_a_directory_others_can_write_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "nxuskit"
    path = config(directory)
    directory.chmod(0o777)
    message = refusal(path)
    assert f"{directory} is writable by others (mode 0777), so {path} is not used" in message
    assert f"`chmod go-w {directory}`" in message
    directory.chmod(0o755)  # the file itself is unchanged: the refusal was not cached
    assert registry.load(str(path)).get("acme").env == "ACME_KEY"


def test_a_sticky_directory_is_fine(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o1777)  # others may add entries, not replace ours (like /tmp)
    assert registry.load(str(config(shared / "nxuskit"))).get("acme").env == "ACME_KEY"


@ROOT_ONLY
def test_a_directory_of_another_user_is_refused_without_chmod_advice(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    path = config(theirs / "nxuskit")
    os.chown(theirs, NOBODY, NOBODY)
    message = refusal(path)
    assert f"{theirs} belongs to uid {NOBODY} (nobody), so {path} is not used" in message
    assert "XDG_CONFIG_HOME" in message
    assert "chmod" not in message  # never advise changing a directory that is not yours


def test_a_symlink_to_a_file_of_yours_is_followed(tmp_path: Path) -> None:
    target = config(tmp_path / "dotfiles")  # what dotfile managers do
    link = tmp_path / "nxuskit" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    assert registry.load(str(link)).get("acme").env == "ACME_KEY"
    target.chmod(0o666)
    assert "writable by others (mode 0666)" in refusal(link)


@ROOT_ONLY
def test_a_symlink_into_a_directory_of_another_user_is_refused(tmp_path: Path) -> None:
    theirs = tmp_path / "theirs"
    target = config(theirs)
    os.chown(theirs, NOBODY, NOBODY)
    link = tmp_path / "nxuskit" / "config.toml"
    link.parent.mkdir()
    link.symlink_to(target)
    assert f"{theirs} belongs to uid {NOBODY}" in refusal(link)


def test_a_fifo_does_not_hang_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "nxuskit" / "config.toml"
    path.parent.mkdir()
    os.mkfifo(path, 0o600)
    assert "is not a regular file" in refusal(path)
