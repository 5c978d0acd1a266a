"""LineReader over in-memory streams: chunking, the size cap, partial lines, the last line."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import anyio
import pytest
from anyio.abc import ByteReceiveStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from nxuskitd.framing import LineReader, LineTooLong

pytestmark = pytest.mark.anyio

MAX = 64


class ChunkStream(ByteReceiveStream):
    """A byte stream fed chunk by chunk from a memory object stream."""

    def __init__(self, chunks: MemoryObjectReceiveStream[bytes]) -> None:
        self._chunks = chunks

    async def receive(self, max_bytes: int = 65536) -> bytes:
        return await self._chunks.receive()

    async def aclose(self) -> None:
        await self._chunks.aclose()


class Pipe:
    def __init__(self) -> None:
        self.sender: MemoryObjectSendStream[bytes]
        receiver: MemoryObjectReceiveStream[bytes]
        self.sender, receiver = anyio.create_memory_object_stream[bytes](1000)
        self.stream = ChunkStream(receiver)

    def reader(self, max_bytes: int = MAX) -> LineReader:
        return LineReader(self.stream, max_bytes)

    def feed(self, *chunks: bytes, close: bool = False) -> None:
        for chunk in chunks:
            self.sender.send_nowait(chunk)
        if close:
            self.sender.close()


@pytest.fixture
async def pipe() -> AsyncIterator[Pipe]:
    made = Pipe()
    yield made
    made.sender.close()
    await made.stream.aclose()


async def lines(reader: LineReader) -> list[bytes]:
    got = []
    while (line := await reader.receive_line()) is not None:
        got.append(line)
    return got


async def test_line_split_across_chunks(pipe: Pipe) -> None:
    pipe.feed(b'{"jsonrpc":', b'"2.0",', b'"id":1}', b"\n", close=True)
    assert await lines(pipe.reader()) == [b'{"jsonrpc":"2.0","id":1}']


async def test_one_byte_chunks(pipe: Pipe) -> None:
    pipe.feed(*(bytes([b]) for b in b"ab\ncd\n"), close=True)
    assert await lines(pipe.reader()) == [b"ab", b"cd"]


async def test_many_lines_in_one_chunk(pipe: Pipe) -> None:
    pipe.feed(b"one\ntwo\n\nthree\n", close=True)
    assert await lines(pipe.reader()) == [b"one", b"two", b"", b"three"]


async def test_newline_at_chunk_start_and_lines_straddling(pipe: Pipe) -> None:
    pipe.feed(b"a", b"\nb", b"c\nd", b"\n", close=True)
    assert await lines(pipe.reader()) == [b"a", b"bc", b"d"]


async def test_final_line_without_newline_at_eof(pipe: Pipe) -> None:
    pipe.feed(b"first\nlast without newline", close=True)
    reader = pipe.reader()
    assert await reader.receive_line() == b"first"
    assert await reader.receive_line() == b"last without newline"
    assert await reader.receive_line() is None


async def test_eof_on_empty_stream(pipe: Pipe) -> None:
    pipe.feed(close=True)
    assert await pipe.reader().receive_line() is None


async def test_exactly_max_bytes_with_newline_is_accepted(pipe: Pipe) -> None:
    # The cap counts the newline: MAX - 1 bytes of message plus "\n" is the longest line.
    body = b"x" * (MAX - 1)
    pipe.feed(body + b"\n" + b"next\n", close=True)
    assert await lines(pipe.reader()) == [body, b"next"]


async def test_exactly_max_bytes_split_in_chunks_is_accepted(pipe: Pipe) -> None:
    body = b"y" * (MAX - 1)
    pipe.feed(body[:10], body[10:], b"\n", close=True)
    assert await lines(pipe.reader()) == [body]


async def test_one_byte_over_max_raises(pipe: Pipe) -> None:
    pipe.feed(b"x" * MAX + b"\n", close=True)
    with pytest.raises(LineTooLong):
        await pipe.reader().receive_line()


async def test_one_byte_over_max_split_in_chunks_raises(pipe: Pipe) -> None:
    pipe.feed(b"x" * 30, b"x" * (MAX - 30), b"\n")
    with pytest.raises(LineTooLong):
        await pipe.reader().receive_line()


async def test_over_max_after_a_good_line_raises_on_the_long_one(pipe: Pipe) -> None:
    pipe.feed(b"ok\n" + b"z" * (MAX + 5) + b"\n", close=True)
    reader = pipe.reader()
    assert await reader.receive_line() == b"ok"
    with pytest.raises(LineTooLong):
        await reader.receive_line()


async def test_line_without_newline_over_max_raises_without_waiting(pipe: Pipe) -> None:
    # The sender stays open: the reader must not wait for a newline that cannot help.
    pipe.feed(b"q" * MAX)
    with anyio.fail_after(5), pytest.raises(LineTooLong):
        await pipe.reader().receive_line()


async def test_huge_chunk_without_newline_raises(pipe: Pipe) -> None:
    pipe.feed(b"w" * (MAX * 100))
    with anyio.fail_after(5), pytest.raises(LineTooLong):
        await pipe.reader().receive_line()


async def test_max_minus_one_without_newline_at_eof_is_a_line(pipe: Pipe) -> None:
    pipe.feed(b"e" * (MAX - 1), close=True)
    assert await lines(pipe.reader()) == [b"e" * (MAX - 1)]


async def test_no_partial_line_before_any_bytes(pipe: Pipe) -> None:
    reader = pipe.reader()
    assert reader.partial_since is None
    pipe.feed(b"whole\n")
    assert await reader.receive_line() == b"whole"
    assert reader.partial_since is None


async def test_a_started_line_is_stamped_once_not_per_chunk(pipe: Pipe) -> None:
    """The deadline is for the whole line: a client dripping bytes cannot extend it."""
    reader = pipe.reader()
    pipe.feed(b'{"half":')
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(reader.receive_line)
        while reader.partial_since is None:
            await anyio.sleep(0.001)
        first = reader.partial_since
        await anyio.sleep(0.02)
        pipe.feed(b'"more')
        await anyio.sleep(0.02)
        assert reader.partial_since == first
        pipe.feed(b'"}\n')
    assert reader.partial_since is None


async def test_leftover_starts_its_deadline_only_when_the_reader_waits_for_the_rest(
    pipe: Pipe,
) -> None:
    """Between lines the daemon is working, not waiting on the client: no deadline runs,
    however long the request takes (issue 9, item 8)."""
    reader = pipe.reader()
    pipe.feed(b"done\npart")
    assert await reader.receive_line() == b"done"
    assert reader.partial_since is None  # the daemon now works on "done"
    async with anyio.create_task_group() as tasks:
        before = time.monotonic()
        tasks.start_soon(reader.receive_line)
        while reader.partial_since is None:
            await anyio.sleep(0.001)
        assert reader.partial_since >= before
        pipe.feed(b"ial\n")
    assert reader.partial_since is None


async def test_complete_lines_queued_behind_a_request_are_not_partial(pipe: Pipe) -> None:
    """A pipelined write ("slow\nhello\n") leaves a complete line in the buffer while the
    first is served: that is the daemon's backlog, not a half-sent message."""
    reader = pipe.reader()
    pipe.feed(b"slow\nhello\n")
    assert await reader.receive_line() == b"slow"
    assert reader.partial_since is None
    assert await reader.receive_line() == b"hello"
    assert reader.partial_since is None


async def test_a_buffered_line_lets_other_tasks_run_first(pipe: Pipe) -> None:
    """A chunk of many lines must not hold the event loop: each line taken from the buffer
    (without reading the stream, which would yield anyway) passes a checkpoint."""
    reader = pipe.reader()
    pipe.feed(b"first\nsecond\n")
    assert await reader.receive_line() == b"first"
    other_ran = anyio.Event()

    async def other() -> None:
        other_ran.set()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(other)
        assert not other_ran.is_set()
        assert await reader.receive_line() == b"second"
        assert other_ran.is_set()
