"""Limits and hostile input against a real daemon: none of them stops it serving others.

A line over 64 KiB gets an error and the connection closes; garbage gets JSON-RPC
errors; half-sent messages are dropped after the partial timeout; hundreds of stalled
connections and a full connection table leave fresh clients served.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import wait_until
from tests.integration.wire import Wire, connect, error_kind

SECRET = "sk-robust"


@pytest.fixture
def served(sandbox: Sandbox, daemon: Daemon) -> Daemon:
    """A daemon that holds a credential for openai."""
    nxuskit.auth_set_credential("openai", SECRET)
    reset_default()
    return daemon


def resolve_promptly(box: Sandbox, within: float = 2.0) -> None:
    """A fresh client connects and resolves openai within ``within`` seconds."""
    started = time.monotonic()
    with connect(box.socket_path, timeout=within + 1) as wire:
        answer = wire.request(protocol.RESOLVE, {"provider": "openai"})
    elapsed = time.monotonic() - started
    assert answer["result"]["secret"] == SECRET, answer
    assert elapsed < within, f"a fresh client waited {elapsed:.2f}s"


def _flood(wire: Wire, data: bytes, outcome: list[str]) -> None:
    try:
        wire.send(data)
        outcome.append("sent")
    except OSError as exc:  # the daemon closed the connection before taking it all
        outcome.append(type(exc).__name__)


# -- message size ------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("newline", [True, False], ids=["with-newline", "without-newline"])
def test_a_4mib_line_gets_an_error_and_closes_only_its_connection(
    sandbox: Sandbox, served: Daemon, newline: bool
) -> None:
    big = b'{"jsonrpc":"2.0","id":1,"method":"daemon.hello","params":{"client":"'
    big += b"x" * (4 * 1024 * 1024) + b'"}}' + (b"\n" if newline else b"")
    with connect(sandbox.socket_path, timeout=10) as flooder:
        outcome: list[str] = []
        sender = threading.Thread(target=_flood, args=(flooder, big, outcome))
        sender.start()
        resolve_promptly(sandbox)  # served while the flood is under way
        answer = flooder.read_json(timeout=10)
        sender.join(10)
        assert outcome, "the 4 MiB send never finished or failed"
        assert answer["id"] is None
        assert answer["error"]["code"] == protocol.INVALID_REQUEST
        assert error_kind(answer) == "message_too_large"
        assert str(protocol.MAX_MESSAGE_BYTES) in answer["error"]["message"]
        assert flooder.closed_by_peer(timeout=5)
    resolve_promptly(sandbox)
    assert served.process.poll() is None


@pytest.mark.timeout(30)
def test_the_size_cap_is_64_kib_newline_included(sandbox: Sandbox, served: Daemon) -> None:
    def request_of(size: int) -> bytes:
        head = b'{"jsonrpc":"2.0","id":"cap","method":"daemon.hello","params":{"client":"'
        tail = b'"}}\n'
        return head + b"a" * (size - len(head) - len(tail)) + tail

    with connect(sandbox.socket_path) as wire:
        fits = request_of(protocol.MAX_MESSAGE_BYTES)
        assert len(fits) == 64 * 1024
        wire.send(fits)
        answer = wire.read_json()
        assert answer["id"] == "cap"
        assert answer["result"]["protocol"] == protocol.PROTOCOL_VERSION
        wire.send(request_of(protocol.MAX_MESSAGE_BYTES + 1))
        answer = wire.read_json()
        assert error_kind(answer) == "message_too_large"
        assert wire.closed_by_peer()


# -- garbage -----------------------------------------------------------------------------

_rng = random.Random(20251129)
GARBAGE = {
    "random-bytes": bytes(_rng.getrandbits(8) for _ in range(8192)),
    "random-printable": bytes(_rng.choice(b"{}[]\":,0123456789abc \\") for _ in range(4096)),
    "truncated-json": b'{"jsonrpc":"2.0","id":1,"method":"auth.resolve","params":{"provider":"op',
    "invalid-utf8-in-string": b'{"jsonrpc":"2.0","id":1,"method":"daemon.hello",'
                              b'"params":{"client":"\xff\xfe\xc3"}}',
    "invalid-utf8-bare": b"\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x90\x28\xbc",
    "utf16-bom": '{"jsonrpc":"2.0","id":1,"method":"daemon.hello"}'.encode("utf-16"),
    "nul-bytes": b"\x00" * 300,
    "deep-nesting": b"[" * 20000 + b"]" * 20000,
    "huge-number": b'{"jsonrpc":"2.0","id":' + b"9" * 5000 + b',"method":"daemon.hello"}',
    "not-an-object": b'"hello"',
    "empty-batch": b"[]",
    "batch-of-garbage": b"[1,2,3,null,true]",
    "http-request": b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
    "vertical-tab-only": b"\x0b",  # not JSON whitespace: not a blank line (issue 9, item 13)
    "form-feed-only": b" \x0c ",
    "negative-4300-digit-id": b'{"jsonrpc":"2.0","id":-' + b"9" * 4300
                              + b',"method":"daemon.hello"}',
    "notification-of-garbage": b'{"foo":"boo"}',
}  # fmt: skip


@pytest.mark.timeout(30)
@pytest.mark.parametrize("garbage", list(GARBAGE.values()), ids=list(GARBAGE))
def test_garbage_gets_json_rpc_errors_and_the_daemon_keeps_serving(
    sandbox: Sandbox, served: Daemon, garbage: bytes
) -> None:
    with connect(sandbox.socket_path) as wire:
        wire.send(garbage + b"\n")
        wire.send_json({"jsonrpc": "2.0", "id": "after", "method": protocol.HELLO})
        answers: list[Any] = []
        while True:
            line = wire.read_line()
            assert line, f"the connection closed; answers so far: {answers}"
            answer = json.loads(line)
            if isinstance(answer, dict) and answer.get("id") == "after":
                break
            answers.append(answer)
        assert answer["result"]["pid"] == served.process.pid  # same connection, still served
        for item in answers:
            for error in item if isinstance(item, list) else [item]:
                assert error["jsonrpc"] == "2.0"
                assert error["id"] is None, error
                assert error["error"]["code"] in (protocol.PARSE_ERROR, protocol.INVALID_REQUEST)
                assert "Traceback" not in error["error"]["message"]
        assert answers, "garbage went unanswered"
        resolve_promptly(sandbox)
    assert "Traceback" not in served.log()


# -- stalled and half-sent messages ------------------------------------------------------


@pytest.mark.timeout(60)
def test_hundreds_of_stalled_connections_do_not_stop_a_fresh_client(
    sandbox: Sandbox, served: Daemon
) -> None:
    stalled: list[socket.socket] = []
    try:
        for number in range(300):
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            stalled.append(sock)
            sock.connect(str(sandbox.socket_path))
            sock.sendall(b'{"jsonrpc":"2.0","id":%d,"method":"auth.res' % number)
        time.sleep(0.2)
        for _ in range(3):
            resolve_promptly(sandbox)
        # The library's own connection too.
        assert nxuskit.auth_resolve("openai").secret == SECRET
    finally:
        for sock in stalled:
            sock.close()
    assert served.process.poll() is None


@pytest.mark.timeout(30)
def test_a_half_sent_message_is_dropped_after_the_partial_timeout(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    spawn("--partial-timeout", "1")
    with connect(sandbox.socket_path, timeout=10) as idle, \
         connect(sandbox.socket_path, timeout=10) as half:  # fmt: skip
        started = time.monotonic()
        half.send(b'{"jsonrpc":"2.0","id":1,"method":"daemon.hel')
        answer = half.read_json(timeout=10)
        waited = time.monotonic() - started
        assert 0.8 < waited < 4, f"dropped after {waited:.2f}s"
        assert answer["id"] is None
        assert answer["error"]["code"] == protocol.INVALID_REQUEST
        assert error_kind(answer) == "message_timeout"
        assert half.closed_by_peer()
        # A connection that sent nothing is idle, not half-sent: it stays open.
        assert idle.request(protocol.HELLO, {})["result"]["protocol"] == 1


@pytest.mark.timeout(30)
def test_a_message_dripped_byte_by_byte_is_dropped_after_the_partial_timeout(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """The timeout covers the whole line, not each chunk: dripping never extends it."""
    spawn("--partial-timeout", "1")
    with connect(sandbox.socket_path, timeout=10) as drip:
        started = time.monotonic()
        for byte in b'{"jsonrpc":"2.0","id":1,"method":"daemon.hello","params":{}}':
            try:
                drip.send(bytes([byte]))
            except OSError:  # closed under us: the refusal is already waiting to be read
                break
            time.sleep(0.2)
            if time.monotonic() - started > 4:
                break
        answer = drip.read_json(timeout=5)
        dropped = time.monotonic() - started
        assert error_kind(answer) == "message_timeout", answer
        assert drip.closed_by_peer()
    assert dropped < 4, f"the drip held its connection for {dropped:.1f}s"


@pytest.mark.timeout(30)
def test_the_default_partial_timeout_drops_stalled_messages(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    """Without flags a half-sent message is dropped too (the default is 10 s)."""
    with connect(sandbox.socket_path, timeout=20) as half:
        started = time.monotonic()
        half.send(b'{"jsonrpc":')
        answer = half.read_json(timeout=20)
        assert error_kind(answer) == "message_timeout"
        assert 5 < time.monotonic() - started < 15


# -- the connection cap ------------------------------------------------------------------


@pytest.mark.timeout(30)
def test_connection_cap_refuses_the_sixth_then_serves_again(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn("--max-connections", "5")
    held = [connect(sandbox.socket_path) for _ in range(5)]
    try:
        for wire in held:  # each is registered and served
            assert wire.request(protocol.HELLO, {})["result"]["pid"] == daemon.process.pid
        with connect(sandbox.socket_path) as sixth:
            refusal = sixth.read_json()
            assert refusal["id"] is None
            assert error_kind(refusal) == "daemon_busy"
            assert "--max-connections" in refusal["error"]["message"]
            assert sixth.closed_by_peer()
        with pytest.raises(nxuskit.DaemonBusy):
            nxuskit.auth_status_all()
        reset_default()
        held.pop().close()

        def served() -> bool:
            try:
                with connect(sandbox.socket_path) as fresh:
                    return "result" in fresh.request(protocol.HELLO, {})
            except (OSError, AssertionError):
                return False

        assert wait_until(served, timeout=5)
        for wire in held:  # the others were never disturbed
            assert "result" in wire.request(protocol.STATUS, {})
    finally:
        for wire in held:
            wire.close()
    assert "refused a connection: 5 open, the limit" in daemon.log()
