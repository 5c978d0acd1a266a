"""ClientConnection's time limits and shutdown, driven with an explicit clock."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anyio
import pytest
from anyio.abc import ByteStream

from nxuskitd.connection import SEND_TIMEOUT, ClientConnection
from nxuskitd.dispatch import Dispatcher

pytestmark = pytest.mark.anyio
PARTIAL, IDLE = 10.0, 600.0


class MemoryByteStream(ByteStream):
    """The daemon's end of an in-memory connection; the test plays the client."""

    def __init__(self) -> None:
        self.to_daemon_send, self._incoming = anyio.create_memory_object_stream[bytes](100)
        self._outgoing, self.from_daemon = anyio.create_memory_object_stream[bytes](100)
        self.closed = False

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._incoming.receive()

    async def send(self, item: bytes) -> None:
        await self._outgoing.send(item)

    async def send_eof(self) -> None:
        await self._outgoing.aclose()

    async def aclose(self) -> None:
        self.closed = True
        await self._outgoing.aclose()
        await self._incoming.aclose()

    def close_all(self) -> None:
        for end in (self.to_daemon_send, self._incoming, self._outgoing, self.from_daemon):
            end.close()


@pytest.fixture
def stream() -> Iterator[MemoryByteStream]:
    made = MemoryByteStream()
    yield made
    made.close_all()


async def echo(params: Any) -> Any:
    return {"ok": True}


def connection(stream: MemoryByteStream, idle: float | None = IDLE) -> ClientConnection:
    dispatcher = Dispatcher({"daemon.status": echo})
    return ClientConnection(stream, dispatcher, 64 * 1024, PARTIAL, idle)


async def settle() -> None:
    for _ in range(20):
        await anyio.lowlevel.checkpoint()


async def test_a_stalled_half_message_is_answered_then_closed(stream: MemoryByteStream) -> None:
    conn = connection(stream)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await stream.to_daemon_send.send(b'{"jsonrpc":"2.0",')
        await settle()
        started = conn._reader.partial_since
        assert started is not None
        conn.check(started + PARTIAL - 1)
        await settle()
        assert not stream.closed  # within the limit nothing happens
        conn.check(started + PARTIAL + 1)
        with anyio.fail_after(5):
            reply = json.loads(await stream.from_daemon.receive())
    assert reply["error"]["data"]["kind"] == "message_timeout"
    assert reply["id"] is None
    assert stream.closed


async def test_an_idle_connection_is_closed_after_the_idle_limit(stream: MemoryByteStream) -> None:
    conn = connection(stream)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await stream.to_daemon_send.send(b'{"jsonrpc":"2.0","id":1,"method":"daemon.status"}\n')
        assert json.loads(await stream.from_daemon.receive())["result"] == {"ok": True}
        await settle()
        waiting = conn._waiting_since
        assert waiting is not None
        assert conn._reader.partial_since is None  # a finished line is not a partial one
        conn.check(waiting + PARTIAL + 1)
        await settle()
        assert not stream.closed
        conn.check(waiting + IDLE + 1)
    assert stream.closed


async def test_without_an_idle_limit_a_quiet_connection_stays(stream: MemoryByteStream) -> None:
    conn = connection(stream, idle=None)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await settle()
        conn.check(1e12)
        await settle()
        assert not stream.closed
        conn.stop()
    assert stream.closed


async def test_stop_lets_the_request_in_flight_finish(stream: MemoryByteStream) -> None:
    release = anyio.Event()

    async def slow(params: Any) -> Any:
        await release.wait()
        return "done"

    conn = ClientConnection(stream, Dispatcher({"daemon.status": slow}), 65536, PARTIAL, IDLE)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await stream.to_daemon_send.send(b'{"jsonrpc":"2.0","id":7,"method":"daemon.status"}\n')
        await settle()
        conn.stop()
        await settle()
        assert not stream.closed
        release.set()
        with anyio.fail_after(5):
            reply = json.loads(await stream.from_daemon.receive())
    assert reply == {"jsonrpc": "2.0", "id": 7, "result": "done"}
    assert stream.closed


async def test_an_answer_the_client_never_reads_ends_the_connection(
    stream: MemoryByteStream,
) -> None:
    conn = connection(stream)
    conn._sending_since = 100.0  # as if a send had blocked since t=100
    conn.check(100.0 + SEND_TIMEOUT + 1)
    assert conn._ended_by == "send"


@pytest.mark.parametrize("blank", [b"", b" ", b"\t \r", b"\r"], ids=repr)
async def test_lines_of_json_whitespace_get_no_answer(
    stream: MemoryByteStream, blank: bytes
) -> None:
    conn = connection(stream)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await stream.to_daemon_send.send(
            blank + b'\n{"jsonrpc":"2.0","id":1,"method":"daemon.status"}\n'
        )
        with anyio.fail_after(5):
            reply = json.loads(await stream.from_daemon.receive())
        assert reply["id"] == 1  # the first answer is the request's: the blank line got none
        conn.stop()


@pytest.mark.parametrize("line", [b"\x0b", b"\x0c", b" \x0b\x0c ", b"\x1c"], ids=repr)
async def test_other_whitespace_is_not_json_and_gets_a_parse_error(
    stream: MemoryByteStream, line: bytes
) -> None:
    """bytes.strip() would call these blank and leave the client waiting for an answer."""
    conn = connection(stream)
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(conn.serve)
        await stream.to_daemon_send.send(line + b"\n")
        with anyio.fail_after(5):
            reply = json.loads(await stream.from_daemon.receive())
        assert reply["id"] is None
        assert reply["error"]["code"] == -32700
        conn.stop()
