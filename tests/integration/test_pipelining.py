"""Many lines on one connection, against a real daemon: pipelined requests behind a slow
one are answered (no partial-message deadline runs for complete lines), and a connection
sending a flood of lines lets other clients in between its lines (issue 9, items 8, 9).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import wait_until
from tests.integration.wire import connect, error_kind


def _line(message: dict[str, object]) -> bytes:
    return json.dumps({"jsonrpc": "2.0", **message}, separators=(",", ":")).encode() + b"\n"


@contextlib.contextmanager
def store_held(data_dir: Path) -> Iterator[None]:
    """Hold the file store's write lock, as another daemon sharing the file would while it
    writes: a set through this daemon waits for it (up to --store-timeout)."""
    data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    lock = os.open(data_dir / "credentials.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield
    finally:
        os.close(lock)


@pytest.mark.timeout(30)
def test_a_request_pipelined_behind_a_slow_one_is_answered(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """The slow request runs well past the partial-message deadline; the hello sent in the
    same write is a complete line waiting its turn, not a half-sent message."""
    spawn("--partial-timeout", "0.5", "--store-timeout", "2")
    slow = _line({"id": "set", "method": protocol.SET_CREDENTIAL,
                  "params": {"provider": "openai", "secret": "sk-pipelined"}})  # fmt: skip
    hello = _line({"id": "hello", "method": protocol.HELLO})
    with store_held(sandbox.data_dir), connect(sandbox.socket_path, timeout=15) as wire:
        wire.send(slow + hello)  # one write: both lines arrive in one chunk
        first = wire.read_json()
        second = wire.read_json()
    assert first["id"] == "set", first
    assert error_kind(first) == "store_unavailable", first  # the handler ran to its end
    assert "did not answer within 2s" in first["error"]["message"]
    assert second["id"] == "hello", second
    assert second["result"]["protocol"] == protocol.PROTOCOL_VERSION


@pytest.mark.timeout(30)
def test_a_partial_line_behind_a_slow_request_gets_its_deadline_afterwards(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """A write split mid-line (as a 64 KiB read can split one) behind a slow request: the
    deadline for the rest starts when the daemon is ready to read it, so finishing the
    line then is in time."""
    spawn("--partial-timeout", "0.5", "--store-timeout", "2")
    slow = _line({"id": "set", "method": protocol.SET_CREDENTIAL,
                  "params": {"provider": "openai", "secret": "sk-pipelined"}})  # fmt: skip
    hello = _line({"id": "hello", "method": protocol.HELLO})
    with store_held(sandbox.data_dir), connect(sandbox.socket_path, timeout=15) as wire:
        wire.send(slow + hello[:10])
        assert wire.read_json()["id"] == "set"
        wire.send(hello[10:])
        answer = wire.read_json()
    assert answer["id"] == "hello", answer


def _process_state(pid: int) -> str:
    with contextlib.suppress(OSError), open(f"/proc/{pid}/stat") as stat:
        return stat.read().rsplit(")", 1)[1].split()[0]
    return "?"


@pytest.mark.timeout(60)
def test_a_flooding_connection_lets_another_client_in_between_its_lines(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    """One read's worth of lines (65,000 blank lines, a daemon.lock notification, a final
    request) and another client's daemon.status reach the daemon together: the status
    must be served while the flood is worked through, so it still sees the cache that the
    flood's daemon.lock empties at its end. Before the fix every line of the chunk ran
    without yielding, and the status came after the lock."""
    nxuskit.auth_set_credential("openai", "sk-flood")
    assert nxuskit.auth_resolve("openai").secret == "sk-flood"
    reset_default()
    tail = _line({"method": protocol.DAEMON_LOCK}) + _line({"id": "last", "method": "daemon.hello"})
    flood = b"\n" * (65536 - len(tail)) + tail  # exactly one 64 KiB read
    pid = daemon.process.pid
    with connect(sandbox.socket_path, timeout=30) as flooder, \
         connect(sandbox.socket_path, timeout=30) as other:  # fmt: skip
        before = other.request(protocol.DAEMON_STATUS)["result"]["cache"]["entries"]
        assert before > 0
        assert "result" in flooder.request(protocol.HELLO)
        # Stopped, the daemon finds both connections readable at once when it goes on;
        # the flood was written first, so its connection is served first.
        os.kill(pid, signal.SIGSTOP)
        try:
            assert wait_until(lambda: _process_state(pid) == "T")
            flooder.send(flood)
            other.send(_line({"id": "status", "method": protocol.DAEMON_STATUS}))
        finally:
            os.kill(pid, signal.SIGCONT)
        status = other.read_json()
        last = flooder.read_json()
    assert status["id"] == "status"
    assert status["result"]["cache"]["entries"] == before, "served only after the whole flood"
    assert last["id"] == "last"
    assert "result" in last


@pytest.mark.timeout(30)
def test_a_notification_with_wrong_params_is_not_answered(sandbox: Sandbox, daemon: Daemon) -> None:
    """Notifications are never answered, however wrong: an answer with id null would be
    read as the answer to the client's next request (issue 9, item 13)."""
    with connect(sandbox.socket_path) as wire:
        wire.send(_line({"method": protocol.HELLO, "params": None}))
        wire.send(_line({"method": protocol.RESOLVE, "params": "openai"}))
        answer = wire.request(protocol.HELLO, request_id="next")
    assert answer["id"] == "next", answer
    assert "result" in answer
