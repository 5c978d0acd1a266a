"""The daemon's side of the client cache: the generation file and the leave to reuse.

The behaviour across processes (eight readers, never an older answer) is proven in
tests/integration/test_client_cache.py; here are the rules each part keeps.
"""

from __future__ import annotations

import struct
import time
from pathlib import Path

from nxuskit import protocol
from nxuskit.reuse import HEADER, map_generation
from nxuskitd.cache import SessionCache
from nxuskitd.generation import Generation
from nxuskitd.reuse import MAX_SECONDS, ReuseLedger
from nxuskitd.stores import Record


def value(path: Path) -> int:
    (number,) = struct.unpack_from("<Q", path.read_bytes(), 8)
    return int(number)


def test_the_file_holds_the_header_and_each_bump_is_written(tmp_path: Path) -> None:
    path = tmp_path / "g"
    published = Generation(str(path))
    assert path.read_bytes()[:8] == HEADER
    assert (path.stat().st_mode & 0o777, path.stat().st_size) == (0o600, 16)
    first = value(path)
    assert first == published.value < 2**53
    published.bump()
    assert value(path) == first + 1
    published.close()
    assert value(path) == first + 2  # a stopping daemon's answers are not reused


def test_a_restart_keeps_the_file_and_picks_a_new_number(tmp_path: Path) -> None:
    path = tmp_path / "g"
    Generation(str(path)).close()
    inode, before = path.stat().st_ino, value(path)
    again = Generation(str(path))
    assert path.stat().st_ino == inode  # a client's mapping of it stays good
    assert value(path) == again.value != before


def test_a_link_or_loose_file_in_its_place_is_replaced_or_tightened(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"keep me")
    path = tmp_path / "g"
    path.symlink_to(target)
    Generation(str(path))
    assert not path.is_symlink()
    assert target.read_bytes() == b"keep me"
    path.chmod(0o644)
    Generation(str(path))
    assert path.stat().st_mode & 0o777 == 0o600


def test_the_client_maps_only_a_private_file_of_its_own(tmp_path: Path) -> None:
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    path = directory / "g"
    Generation(str(path))
    assert map_generation(str(path)) is not None
    path.chmod(0o620)  # a group could write it
    assert map_generation(str(path)) is None
    path.chmod(0o600)
    directory.chmod(0o750)  # a directory others can enter is no socket directory
    assert map_generation(str(path)) is None


def test_an_api_key_is_reused_as_long_as_the_daemon_keeps_it(tmp_path: Path) -> None:
    grants = ReuseLedger(Generation(str(tmp_path / "g")), SessionCache(600.0, 7200.0))
    record = Record(secret="sk-1")
    grants._cache.put("openai", record)
    reuse = grants.grant("openai", record, 42)
    assert reuse is not None
    assert (reuse.generation, reuse.idle) == (42, 600.0)
    assert 7199 < reuse.seconds <= 7200
    assert grants.until > time.monotonic()


def test_an_oauth_token_is_reused_only_until_its_refresh_is_due(tmp_path: Path) -> None:
    grants = ReuseLedger(Generation(str(tmp_path / "g")), SessionCache(600.0, 7200.0))
    now = time.time()
    token = Record(secret="at", auth_method=protocol.OAUTH, updated_at=now, expires_at=now + 6)
    grants._cache.put("acme", token)
    reuse = grants.grant("acme", token, 1)
    assert reuse is not None
    assert 2.5 < reuse.seconds <= 3.0  # 6 s to live, refreshed at half its life
    due = Record(secret="at", auth_method=protocol.OAUTH, updated_at=now - 5, expires_at=now + 1)
    assert grants.grant("acme", due, 1) is None


def test_no_reuse_without_a_file_or_a_cache(tmp_path: Path) -> None:
    record = Record(secret="sk-1")
    in_memory = ReuseLedger(Generation(), SessionCache())
    in_memory._cache.put("openai", record)
    assert in_memory.grant("openai", record, 1) is None  # no client could see it move
    keeps_nothing = ReuseLedger(Generation(str(tmp_path / "g")), SessionCache(idle=0))
    keeps_nothing._cache.put("openai", record)
    assert keeps_nothing.grant("openai", record, 1) is None
    for_ever = ReuseLedger(Generation(str(tmp_path / "h")), SessionCache(None, None))
    for_ever._cache.put("openai", record)
    reuse = for_ever.grant("openai", record, 1)
    assert reuse is not None
    assert (reuse.seconds, reuse.idle) == (MAX_SECONDS, None)
