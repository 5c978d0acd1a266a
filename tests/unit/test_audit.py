"""The audit trail's parts without a daemon process: the file's rotation, reading it back,
the writer thread, ``--since`` and the CLI's table. The whole trail against a real daemon
is tests/integration/test_audit.py and test_audit_file.py."""

from __future__ import annotations

import datetime
import json
import os
import stat
from pathlib import Path

import pytest

from nxuskit import audit, protocol, registry
from nxuskit.answers import AuditEntry
from nxuskit.errors import InvalidArgument
from nxuskit_cli.audit import _table, parse_since
from nxuskitd.audit import AuditLog
from nxuskitd.audit_file import AuditFile
from nxuskitd.peer import CURRENT, Peer

pytestmark = pytest.mark.anyio


def line(when: float, provider: str = "openai", method: str = protocol.RESOLVE) -> bytes:
    entry = {"time": when, "method": method, "provider": provider, "source": "store",
             "result": "ok", "pid": 7, "executable": "/usr/bin/app"}  # fmt: skip
    return json.dumps(entry, separators=(",", ":")).encode() + b"\n"


def write_generations(path: Path) -> None:
    """Entries at times 1..12, three per file, the oldest in ``.3``."""
    for number, first in ((3, 1), (2, 4), (1, 7), (0, 10)):
        name = path if number == 0 else Path(f"{path}.{number}")
        name.write_bytes(b"".join(line(t, "groq" if t % 2 else "openai") for t in
                                  range(first, first + 3)))  # fmt: skip


def test_reading_runs_across_the_generations_oldest_first(tmp_path: Path) -> None:
    path = tmp_path / audit.FILE_NAME
    write_generations(path)
    everything = audit.read(str(path))
    assert [e.time for e in everything.entries] == list(range(1, 13))
    assert not everything.more
    newest = audit.read(str(path), limit=4)
    assert ([e.time for e in newest.entries], newest.more) == ([9, 10, 11, 12], True)
    recent = audit.read(str(path), since=8)
    assert [e.time for e in recent.entries] == [8, 9, 10, 11, 12]
    groq = audit.read(str(path), provider="groq", since=3, limit=3)
    assert ([e.time for e in groq.entries], groq.more) == ([7, 9, 11], True)


def test_a_line_cut_short_is_skipped_and_the_rest_read(tmp_path: Path) -> None:
    path = tmp_path / audit.FILE_NAME
    path.write_bytes(
        line(1) + line(2)[:30] + b"\n" + line(3) + b'{"time": "soon"}\n' + line(4)[:-9]
    )
    assert [e.time for e in audit.read(str(path)).entries] == [1, 3]


def test_the_file_is_rotated_keeping_its_generations(tmp_path: Path) -> None:
    path = tmp_path / "nxuskit" / audit.FILE_NAME
    log = AuditFile(str(path), max_bytes=3 * len(line(0)), generations=2)
    log.write([line(when) for when in range(1, 6)])  # one batch, across two files
    for when in range(6, 11):
        log.write([line(when)])
    log.close()
    assert sorted(p.name for p in path.parent.iterdir()) == [
        audit.FILE_NAME, f"{audit.FILE_NAME}.1", f"{audit.FILE_NAME}.2"
    ]  # fmt: skip
    assert [e.time for e in audit.read(str(path)).entries] == list(range(4, 11))  # 3 a file
    assert oct(path.parent.stat().st_mode & 0o777) == oct(0o700)


@pytest.mark.parametrize("umask", [0o000, 0o177])
def test_the_file_and_directories_are_private_whatever_the_umask(
    tmp_path: Path, umask: int
) -> None:
    # 0o177 is what binding the socket sets for a moment: a directory made then with
    # makedirs(0o700) would be 0600, and no one could enter it.
    path = tmp_path / "state" / "nxuskit" / audit.FILE_NAME
    previous = os.umask(umask)
    try:
        log = AuditFile(str(path), max_bytes=audit.MAX_BYTES, generations=1)
        log.write([line(1)])
        log.close()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.parent.parent.stat().st_mode) == 0o700


def test_a_file_moved_away_is_started_again(tmp_path: Path) -> None:
    path = tmp_path / audit.FILE_NAME
    log = AuditFile(str(path), max_bytes=audit.MAX_BYTES, generations=1)
    log.write([line(1)])
    path.rename(tmp_path / "kept")
    log.write([line(2)])
    log.close()
    assert [e.time for e in audit.read(str(path)).entries] == [2]


async def test_the_writer_records_the_peer_and_survives_a_bad_entry(tmp_path: Path) -> None:
    trail = AuditLog(str(tmp_path / "state"))
    trail.open()
    try:
        CURRENT.set(Peer(True, "uid 0", "uid 0 pid 42", 42, "/usr/bin/app"))
        trail.record(protocol.RESOLVE, "openai", object(), audit.OK)  # type: ignore[arg-type]
        trail.record(protocol.RESOLVE, "openai", "store", audit.OK)
        answer = await trail.query(registry.load(None), "gpt", None, None)
    finally:
        trail.close()
    assert [(e.pid, e.executable, e.source) for e in answer.entries] == [
        (42, "/usr/bin/app", "store")
    ]
    assert trail.dropped == 1
    assert trail.last_used("openai") == answer.entries[0].time


async def test_last_used_is_read_back_from_the_files(tmp_path: Path) -> None:
    directory = tmp_path / "state"
    directory.mkdir(mode=0o700)
    write_generations(directory / audit.FILE_NAME)
    with (directory / audit.FILE_NAME).open("ab") as handle:
        handle.write(line(99, "mistral", protocol.SET_CREDENTIAL))  # not a use
    trail = AuditLog(str(directory))
    trail.open()
    trail.close()
    assert (trail.last_used("openai"), trail.last_used("groq")) == (12, 11)
    assert trail.last_used("mistral") is None


async def test_the_query_refuses_what_may_be_a_key_and_a_limit_out_of_range(
    tmp_path: Path,
) -> None:
    trail = AuditLog(str(tmp_path))
    with pytest.raises(InvalidArgument, match=r"\(that name\) is not a provider name"):
        await trail.query(registry.load(None), "sk-proj-Zq8v2Lm4Xw7Tn1Rb5Kc9q", None, None)
    with pytest.raises(InvalidArgument, match="between 1 and 10000"):
        await trail.query(registry.load(None), None, None, 0)


def test_since_takes_spans_and_local_dates() -> None:
    assert parse_since("90s", now=1000.0) == 910.0
    assert parse_since("2d", now=200000.0) == 200000.0 - 2 * 86400
    assert parse_since(" 1H ", now=5000.0) == 1400.0
    local = datetime.datetime(2025, 11, 29, 14, 0).astimezone().timestamp()
    assert parse_since("2025-11-29T14:00") == local
    assert parse_since("2025-11-29 14:00:00+00:00") == 1764424800.0
    with pytest.raises(InvalidArgument, match="like 1h, 30m, 2d"):
        parse_since("yesterday")


def test_the_table_fits_80_columns() -> None:
    now = 1764424800.0
    rows = [
        AuditEntry(now, protocol.REMOVE_CREDENTIAL, "perplexity", None, "ok", 4194304,
                   "/home/ada/.local/share/pipx/venvs/nxuskit/bin/python3.12"),
        AuditEntry(now, protocol.RESOLVE, "azure-openai", None, "not_authenticated", 123,
                   "/usr/bin/python3.12"),
        AuditEntry(now, protocol.RESOLVE, "openrouter", "oauth", "ok", None, None),
    ]  # fmt: skip
    lines = _table(rows, now=now).splitlines()
    assert max(len(text) for text in lines) <= 80
    assert lines[2].split()[2:4] == ["remove", "perplexity"]
    assert "ok (oauth)" in lines[4]
