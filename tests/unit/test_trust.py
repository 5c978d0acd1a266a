"""The directory rules of ``nxuskit.trust``, one case each, on real directories."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from nxuskit import config_trust, trust
from nxuskit.errors import PermissionDenied

OTHER = 65534
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="chown to another uid needs root")


@pytest.fixture
def base(tmp_path: Path) -> Path:
    tmp_path.chmod(0o700)
    return tmp_path


def test_a_private_chain_passes(base: Path) -> None:
    (base / "a" / "b").mkdir(parents=True, mode=0o700)
    trust.check_directory_chain(str(base / "a" / "b"))
    trust.check_directory_chain(str(base / "a" / "b" / "missing" / "deeper"))


def test_a_root_owned_sticky_directory_may_be_shared(base: Path) -> None:
    if os.geteuid() != 0:
        pytest.skip("the sticky directory must be root's")
    shared = base / "tmp"
    shared.mkdir()
    shared.chmod(0o1777)
    trust.check_directory_chain(str(shared))


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o757])
def test_a_directory_others_can_write_is_refused(base: Path, mode: int) -> None:
    loose = base / "loose"
    loose.mkdir()
    loose.chmod(mode)
    with pytest.raises(PermissionDenied) as caught:
        trust.check_directory_chain(str(loose / "nxuskit"))
    assert f"{mode:04o}" in str(caught.value)
    assert "chmod" not in str(caught.value)


@needs_root
def test_a_directory_of_another_user_is_refused(base: Path) -> None:
    theirs = base / "theirs"
    theirs.mkdir(mode=0o755)
    os.chown(theirs, OTHER, OTHER)
    with pytest.raises(PermissionDenied, match=f"uid {OTHER}"):
        trust.check_directory_chain(str(theirs / "nxuskit"))


@needs_root
def test_a_symlink_is_judged_by_its_owner_and_its_target(base: Path) -> None:
    good = base / "good"
    good.mkdir(mode=0o700)
    ours = base / "ours"
    ours.symlink_to(good)
    trust.check_directory_chain(str(ours / "nxuskit"))
    theirs = base / "theirs"
    theirs.symlink_to(good)
    os.lchown(theirs, OTHER, OTHER)
    with pytest.raises(PermissionDenied, match="symlink"):
        trust.check_directory_chain(str(theirs / "nxuskit"))
    bad_target = base / "bad"
    bad_target.mkdir(mode=0o777)
    bad_target.chmod(0o777)
    to_bad = base / "to-bad"
    to_bad.symlink_to(bad_target)
    with pytest.raises(PermissionDenied, match="can be written by other users"):
        trust.check_directory_chain(str(to_bad / "nxuskit"))


def test_the_socket_directory_must_be_private_and_real(base: Path) -> None:
    own = base / "nxuskit"
    own.mkdir(mode=0o700)
    trust.check_socket_directory(str(own))
    own.chmod(0o750)
    with pytest.raises(PermissionDenied, match=f"run chmod 700 {own}"):
        trust.check_socket_directory(str(own))
    link = base / "link"
    link.symlink_to(own)
    with pytest.raises(PermissionDenied, match="symlink"):
        trust.check_private_directory(str(link))


def test_a_directory_that_is_not_nxuskits_own_is_never_chmod_advice(base: Path) -> None:
    home = base / "home"
    home.mkdir(mode=0o755)
    home.chmod(0o755)
    with pytest.raises(PermissionDenied) as caught:
        trust.check_socket_directory(str(home))
    assert "chmod" not in str(caught.value)
    assert "directory of its own" in str(caught.value)


def test_make_private_directory_creates_each_level_0700(base: Path) -> None:
    target = base / "runtime-1" / "nxuskit"
    trust.make_private_directory(str(target))
    for path in (target, target.parent):
        assert os.lstat(path).st_mode & 0o777 == 0o700
    trust.make_private_directory(str(target))  # an existing good one is fine


@needs_root
def test_make_private_directory_never_uses_one_made_by_someone_else(base: Path) -> None:
    squatted = base / "runtime-1"
    squatted.mkdir(mode=0o700)
    os.chown(squatted, OTHER, OTHER)
    with pytest.raises(PermissionDenied, match=f"uid {OTHER}"):
        trust.make_private_directory(str(squatted / "nxuskit"))
    assert not (squatted / "nxuskit").exists()


def test_one_walker_judges_a_chain_by_the_rule_it_is_given(base: Path) -> None:
    # The socket's rule from /, config.toml's only below the home directory it is given.
    loose = base / "loose"
    home = loose / "home"
    (home / "config").mkdir(parents=True)
    loose.chmod(0o777)
    uid = os.geteuid()
    socket_problem = trust.chain_problem(str(home / "config"), trust.socket_rule(uid))
    assert socket_problem is not None
    assert f"{loose} can be written by other users" in socket_problem
    config_rule = config_trust.config_rule(str(home / "config" / "config.toml"), uid)
    assert trust.chain_problem(str(home / "config"), config_rule, str(home)) is None
    config_problem = trust.chain_problem(str(home / "config"), config_rule)
    assert config_problem is not None
    assert f"{loose} is writable by others (mode 0777)" in config_problem
