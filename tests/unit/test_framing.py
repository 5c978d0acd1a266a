"""LineReader over in-memory streams: chunking, the size cap, timeouts, the last line."""

from __future__ import annotations

from collections.abc import AsyncIterator

import anyio
import pytest
from anyio.abc import ByteReceiveStream
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from nxuskitd.framing import IdleTimeout, LineReader, LineTooLong, PartialTimeout

pytestmark = pytest.mark.anyio

MAX = 64
SLOW = 30.0  # a timeout that must not fire during a test


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

    def reader(
        self, max_bytes: int = MAX, partial: float = SLOW, idle: float | None = SLOW
    ) -> LineReader:
        return LineReader(self.stream, max_bytes, partial, idle)

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
        await pipe.reader(partial=SLOW, idle=SLOW).receive_line()


async def test_huge_chunk_without_newline_raises(pipe: Pipe) -> None:
    pipe.feed(b"w" * (MAX * 100))
    with anyio.fail_after(5), pytest.raises(LineTooLong):
        await pipe.reader().receive_line()


async def test_max_minus_one_without_newline_at_eof_is_a_line(pipe: Pipe) -> None:
    pipe.feed(b"e" * (MAX - 1), close=True)
    assert await lines(pipe.reader()) == [b"e" * (MAX - 1)]


async def test_partial_timeout_for_a_started_line(pipe: Pipe) -> None:
    pipe.feed(b'{"half":')
    started = anyio.current_time()
    with anyio.fail_after(5), pytest.raises(PartialTimeout):
        await pipe.reader(partial=0.1, idle=SLOW).receive_line()
    assert anyio.current_time() - started < 2


async def test_idle_timeout_when_nothing_comes(pipe: Pipe) -> None:
    started = anyio.current_time()
    with anyio.fail_after(5), pytest.raises(IdleTimeout):
        await pipe.reader(partial=SLOW, idle=0.1).receive_line()
    assert anyio.current_time() - started < 2


async def test_idle_none_waits_for_ever(pipe: Pipe) -> None:
    reader = pipe.reader(partial=0.05, idle=None)
    with anyio.move_on_after(0.3) as scope:
        await reader.receive_line()
    assert scope.cancelled_caught


async def test_partial_timeout_applies_to_leftover_after_a_line(pipe: Pipe) -> None:
    pipe.feed(b"done\npart")
    reader = pipe.reader(partial=0.1, idle=SLOW)
    assert await reader.receive_line() == b"done"
    with anyio.fail_after(5), pytest.raises(PartialTimeout):
        await reader.receive_line()


async def test_idle_between_lines_is_not_partial(pipe: Pipe) -> None:
    # After a complete line the buffer is empty, so the idle limit applies, not the partial.
    pipe.feed(b"done\n")
    reader = pipe.reader(partial=0.05, idle=0.4)
    assert await reader.receive_line() == b"done"
    with anyio.fail_after(5), pytest.raises(IdleTimeout):
        await reader.receive_line()


async def test_partial_timeout_is_a_deadline_not_reset_by_each_byte(pipe: Pipe) -> None:
    """A client dripping one byte at a time cannot hold a half-sent message open."""
    reader = pipe.reader(partial=0.3, idle=SLOW)

    async def drip() -> None:
        for _ in range(40):  # 40 x 0.05 s is far beyond the 0.3 s deadline
            await pipe.sender.send(b".")
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(drip)
        started = anyio.current_time()
        with anyio.fail_after(5), pytest.raises(PartialTimeout):
            await reader.receive_line()
        assert anyio.current_time() - started < 1.5
        tasks.cancel_scope.cancel()


async def test_a_slow_line_within_the_deadline_is_read(pipe: Pipe) -> None:
    reader = pipe.reader(partial=2.0, idle=SLOW)

    async def trickle() -> None:
        for piece in (b"sl", b"ow", b"\n"):
            await pipe.sender.send(piece)
            await anyio.sleep(0.05)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(trickle)
        assert await reader.receive_line() == b"slow"


async def test_deadline_starts_again_for_the_next_line(pipe: Pipe) -> None:
    # Each line takes ~0.25 s, well within 0.6 s; the three together take longer than that.
    reader = pipe.reader(partial=0.6, idle=SLOW)

    async def send_lines() -> None:
        for _ in range(3):
            await pipe.sender.send(b"a")
            await anyio.sleep(0.25)
            await pipe.sender.send(b"b\n")

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(send_lines)
        started = anyio.current_time()
        assert [await reader.receive_line() for _ in range(3)] == [b"ab", b"ab", b"ab"]
        assert anyio.current_time() - started > 0.6  # so one deadline for all would have fired
