"""The audit log's file against a real nxuskitd: private, rotated, and never in the way.

Another user cannot read it (tried as uid 65534 with every directory above it opened);
it is rotated by size with a few generations kept; a full disk (a real tmpfs that is
full) or a path that cannot be written costs the audit trail, with one warning, never a
resolve.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import audit, protocol
from nxuskit.client import Client
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import as_nobody, can_switch_user

pytestmark = pytest.mark.timeout(120)
SECRET = "sk-audit-file-3c4d5e6f7a8b"


@pytest.fixture(autouse=True)
def _every_resolve_reaches_the_daemon(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the daemon's entries: this process's client cache is off, so each
    resolve is a daemon access (a cached one is not: test_client_cache.py)."""
    monkeypatch.setenv("NXUSKIT_CLIENT_CACHE", "0")


def state_dir(box: Sandbox) -> Path:
    return box.root / "state" / "nxuskit"


def query(box: Sandbox, **params: Any) -> Any:
    with Client(str(box.socket_path), autostart=False) as client:
        return client.audit_query(**params)


def test_the_file_is_private_and_another_user_cannot_read_it(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    reason = can_switch_user()
    if reason is not None:
        pytest.skip(reason)
    nxuskit.auth_set_credential("openai", SECRET)
    nxuskit.auth_resolve("openai")
    path = Path(query(sandbox).path)
    assert path == state_dir(sandbox) / audit.FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    for above in (sandbox.root, sandbox.root / "state"):  # only our own modes protect it now
        above.chmod(0o755)
    read = as_nobody(sys.executable, "-c", f"print(open({str(path)!r}).read())")
    assert read.returncode != 0
    assert "Permission denied" in read.stderr
    listed = as_nobody("ls", str(path.parent))
    assert listed.returncode != 0


def test_a_loose_file_is_tightened_and_a_loose_directory_refused(
    sandbox: Sandbox, spawn: Any
) -> None:
    directory = state_dir(sandbox)
    directory.mkdir(parents=True, mode=0o700)
    (directory / audit.FILE_NAME).write_text("")
    (directory / audit.FILE_NAME).chmod(0o644)
    first = spawn()
    nxuskit.auth_set_credential("openai", SECRET)
    query(sandbox)
    assert stat.S_IMODE((directory / audit.FILE_NAME).stat().st_mode) == 0o600
    first.stop()
    directory.chmod(0o755)
    second = spawn()
    trail = query(sandbox)
    assert f"chmod 700 {directory}" in (trail.problem or "")
    assert nxuskit.auth_resolve("openai").secret == SECRET  # served all the same
    assert second.log().count(f"{directory} is open to other users") == 1


def test_the_log_is_rotated_by_size_keeping_a_few_generations(sandbox: Sandbox, spawn: Any) -> None:
    spawn("--audit-max-bytes", "1000")
    nxuskit.auth_set_credential("openai", SECRET)
    for _ in range(60):  # ~200 bytes each: about twelve files' worth
        nxuskit.auth_resolve("openai")
    trail = query(sandbox, limit=protocol.AUDIT_LIMIT_MAX)
    names = sorted(path.name for path in state_dir(sandbox).iterdir())
    assert names == [audit.FILE_NAME] + [f"{audit.FILE_NAME}.{n}" for n in (1, 2, 3)]
    for name in names:
        assert (state_dir(sandbox) / name).stat().st_size <= 1000
        assert stat.S_IMODE((state_dir(sandbox) / name).stat().st_mode) == 0o600
    times = [entry.time for entry in trail.entries]
    assert times == sorted(times)  # across the files, oldest first
    assert 12 <= len(times) < 61  # what the kept files hold; the rest rotated away
    assert trail.entries[-1].method == protocol.RESOLVE
    two = query(sandbox, limit=2)
    assert [e.time for e in two.entries] == times[-2:]
    assert two.more


@pytest.fixture
def full_disk(sandbox: Sandbox) -> Iterator[Path]:
    """The sandbox's state directory on a 64 KiB tmpfs, filled to the last byte."""
    target = sandbox.root / "state"
    target.mkdir()
    command = ["mount", "-t", "tmpfs", "-o", "size=64k,mode=700", "tmpfs", str(target)]
    mounted = subprocess.run(command, capture_output=True, text=True, check=False)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        (target / "nxuskit").mkdir(mode=0o700)
        filler = target / "filler"
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"x" * 512):
                pass
        except OSError:
            pass  # ENOSPC: full
        finally:
            os.close(fd)
        yield filler
    finally:
        subprocess.run(["umount", "-l", str(target)], check=False)


def test_a_full_disk_costs_the_trail_not_the_resolves(
    sandbox: Sandbox, full_disk: Path, spawn: Any
) -> None:
    running = spawn()
    nxuskit.auth_set_credential("openai", SECRET)
    for _ in range(50):
        assert nxuskit.auth_resolve("openai").secret == SECRET
    trail = query(sandbox)
    assert "No space left on device" in (trail.problem or "")
    shown = run_cli(sandbox, "audit")
    assert shown.returncode == 0
    assert "the audit log is not being written" in shown.stderr
    assert running.log().count("No space left on device") == 1  # one warning, not 51
    full_disk.unlink()  # space again: the trail resumes
    nxuskit.auth_resolve("openai")
    trail = query(sandbox)
    assert trail.problem is None
    assert [entry.method for entry in trail.entries][-1] == protocol.RESOLVE
    assert "writing" in running.log().splitlines()[-1]  # said once it works again
    for line in (state_dir(sandbox) / audit.FILE_NAME).read_text().splitlines():
        if line:
            json.loads(line)  # no line was left cut in two


def test_a_fifo_in_its_place_is_refused_at_once(sandbox: Sandbox, spawn: Any) -> None:
    directory = state_dir(sandbox)
    directory.mkdir(parents=True, mode=0o700)
    os.mkfifo(directory / audit.FILE_NAME, 0o600)
    running = spawn()  # started at all: its start-up read of the log did not wait either
    nxuskit.auth_set_credential("openai", SECRET)
    assert nxuskit.auth_resolve("openai").secret == SECRET
    with pytest.raises(nxuskit.PermissionDenied, match="not a regular file: move it away"):
        query(sandbox)
    assert running.log().count("audit.jsonl is not a regular file: move it away") == 2


def test_no_audit_keeps_no_file(sandbox: Sandbox, spawn: Any) -> None:
    spawn("--no-audit")
    nxuskit.auth_set_credential("openai", SECRET)
    nxuskit.auth_resolve("openai")
    trail = query(sandbox)
    assert (trail.entries, trail.path) == ([], None)
    assert "--no-audit" in (trail.problem or "")
    assert not (state_dir(sandbox) / audit.FILE_NAME).exists()
