"""The daemon's log, read as an operator reads it (issue 9, item 20): each line has a time
unless journald adds its own, a store failure says which file and why (once, not once per
request), and another user hammering the socket cannot flood it.
"""

from __future__ import annotations

import os
import re
import secrets
import sys
import textwrap
from collections.abc import Callable

import pytest

import nxuskit
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import NOBODY, as_nobody, can_switch_user, wait_until

ISO_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d nxuskitd: ")


def _log_lines(daemon: Daemon) -> list[str]:
    return daemon.log().splitlines()


# -- timestamps --------------------------------------------------------------------------


def test_lines_carry_an_iso_time_when_not_under_journald(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn()
    lines = _log_lines(daemon)
    assert lines, "the daemon logged nothing"
    for line in lines:
        assert ISO_STAMP.match(line), line


def test_a_journal_stream_that_is_not_stderr_still_gets_times(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """JOURNAL_STREAM is inherited by children whose stderr went elsewhere: it must match
    stderr's own device and inode to count (systemd.exec(5))."""
    daemon = spawn(env={**sandbox.env, "JOURNAL_STREAM": "8:12345"})
    assert all(ISO_STAMP.match(line) for line in _log_lines(daemon))


def test_under_journald_lines_carry_no_time_of_their_own(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    log_path = sandbox.root / "journal-stream.log"
    log_path.touch()
    identity = os.stat(log_path)
    stream = f"{identity.st_dev}:{identity.st_ino}"
    daemon = spawn(env={**sandbox.env, "JOURNAL_STREAM": stream}, name=log_path.name)
    lines = _log_lines(daemon)
    assert any("nxuskitd: INFO: serving" in line for line in lines), lines
    for line in lines:
        assert line.startswith("nxuskitd: "), line  # journald stamps it


# -- store failures ----------------------------------------------------------------------


def test_a_corrupt_store_file_is_logged_once_with_its_path_and_cause(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn()
    secret = f"sk-corrupt-{secrets.token_hex(6)}"
    nxuskit.auth_set_credential("openai", secret)
    reset_default()
    daemon.stop()
    text = sandbox.store_file.read_text()
    sandbox.store_file.write_text(text[: len(text) // 2])  # cut in half: corrupt
    reset_default()
    restarted = spawn(name="restarted.log")
    for _ in range(3):
        with pytest.raises(nxuskit.StoreUnavailable):
            nxuskit.auth_resolve("openai")
    with pytest.raises(nxuskit.StoreUnavailable):
        nxuskit.auth_status_all()
    failures = [line for line in _log_lines(restarted) if "credential store error" in line]
    assert len(failures) == 1, failures
    assert "WARNING" in failures[0]
    assert str(sandbox.store_file) in failures[0]
    assert "is corrupt" in failures[0]
    assert secret not in restarted.log()
    assert secret[:12] not in restarted.log()


def test_a_store_file_open_to_others_is_logged_once_then_its_repair(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn()
    nxuskit.auth_set_credential("openai", "sk-mode-644")
    reset_default()
    daemon.stop()
    sandbox.store_file.chmod(0o644)
    reset_default()
    restarted = spawn(name="restarted.log")
    for _ in range(3):
        with pytest.raises(nxuskit.PermissionDenied):
            nxuskit.auth_resolve("openai")
    sandbox.store_file.chmod(0o600)
    assert nxuskit.auth_resolve("openai").secret == "sk-mode-644"
    lines = _log_lines(restarted)
    failures = [line for line in lines if "credential store error" in line]
    assert len(failures) == 1, failures
    assert str(sandbox.store_file) in failures[0]
    assert "mode 644" in failures[0]
    assert any("the credential store answers again" in line for line in lines)


# -- refused connections -----------------------------------------------------------------

_NOBODY_FLOOD = textwrap.dedent(
    """
    import socket, sys
    refused = 0
    for _ in range(int(sys.argv[2])):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(10)
        sock.connect(sys.argv[1])
        if b"permission_denied" in sock.recv(65536):
            refused += 1
        sock.close()
    print(refused)
    """
)


@pytest.mark.root
@pytest.mark.timeout(120)
def test_a_flood_of_refused_connections_leaves_a_bounded_log(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    reason = can_switch_user()
    if reason:
        pytest.skip(reason)
    for directory, mode in ((sandbox.root, 0o755), (sandbox.runtime_dir, 0o755),
                            (sandbox.socket_path.parent, 0o777)):  # fmt: skip
        directory.chmod(mode)
    sandbox.socket_path.chmod(0o666)
    attempts = 500
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": "/nonexistent"}
    result = as_nobody(sys.executable, "-c", _NOBODY_FLOOD, str(sandbox.socket_path),
                       str(attempts), env=env, timeout=100)  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == attempts  # every one was refused, and said so
    refusals = [line for line in _log_lines(daemon) if f"from uid {NOBODY}" in line]
    assert 1 <= len(refusals) <= 3, refusals  # the first, and at most a summary or two
    assert "refused a connection from uid" in refusals[0]
    # The daemon still serves its own user (whose client wants its directories private).
    for directory in (sandbox.root, sandbox.runtime_dir, sandbox.socket_path.parent):
        directory.chmod(0o700)
    assert nxuskit.auth_status_all()
    # Once the flood is over, what was left out is counted in one line.
    assert wait_until(
        lambda: any("more like it" in line for line in _log_lines(daemon)), timeout=20
    ), daemon.log()
    # Every refusal is accounted for: each line stands for itself and those it counts.
    refusals = [line for line in _log_lines(daemon) if f"from uid {NOBODY}" in line]
    counts = [re.search(r"and (\d+) more like it", line) for line in refusals]
    assert sum(1 + int(found.group(1)) if found else 1 for found in counts) == attempts
    assert len(refusals) <= 4, refusals
