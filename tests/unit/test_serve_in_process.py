"""``serve`` runs a whole daemon in this process on a listener the test made.

The listener hands the server one end of a socketpair per connection; the test speaks
JSON-RPC over the other end. Everything behind the listener is the real daemon: options,
the store (a file store in a temporary directory), wiring, dispatch, credentials, the
exit stack. No socket file, instance lock or signal handler is involved (the caller
owns the process when it passes a listener).
"""

from __future__ import annotations

import json
import socket
from pathlib import Path

import anyio
import pytest
from anyio.abc import ByteStream, SocketStream

from nxuskit import protocol
from nxuskit.answers import Resolution, Stored
from nxuskitd import system
from nxuskitd.lifecycle import serve
from nxuskitd.listener import Listener
from nxuskitd.options import DaemonConfig
from nxuskitd.peer import Peer

pytestmark = pytest.mark.anyio
SECRET = "sk-in-process-8d2c41f0"


class PairListener(Listener):
    """Connections made by ``connect()``: socketpairs, no file anywhere."""

    description = "socketpair (test)"

    def __init__(self) -> None:
        self._send, self._receive = anyio.create_memory_object_stream[socket.socket](8)
        self.closed = False

    async def connect(self) -> SocketStream:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        await self._send.send(theirs)
        return await SocketStream.from_socket(ours)

    async def accept(self) -> tuple[ByteStream, Peer]:
        sock = await self._receive.receive()
        return await SocketStream.from_socket(sock), system.peer_of(sock)

    async def aclose(self) -> None:
        self.closed = True
        await self._receive.aclose()
        await self._send.aclose()


async def call(stream: SocketStream, method: str, params: dict[str, object]) -> object:
    request = {"jsonrpc": "2.0", "id": 1, "method": method, "params": params}
    await stream.send(json.dumps(request).encode() + b"\n")
    answer = b""
    while not answer.endswith(b"\n"):
        answer += await stream.receive()
    message = json.loads(answer)
    assert "result" in message, message
    return message["result"]


async def test_a_daemon_in_this_process_resolves_through_a_listener_it_was_given(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data" / "nxuskit"
    config = DaemonConfig(
        socket_path=str(tmp_path / "no-socket-file"),
        store="file",
        data_dir=str(data),
        config_path=str(tmp_path / "config.toml"),
    )
    listener = PairListener()
    with anyio.fail_after(20):
        async with anyio.create_task_group() as tasks:
            server = await tasks.start(serve, config, listener)
            stream = await listener.connect()
            async with stream:
                params = {"provider": "openai", "secret": SECRET}
                stored = Stored.from_wire(await call(stream, protocol.SET_CREDENTIAL, params))
                assert (stored.provider, stored.store) == ("openai", "file")
                resolved = Resolution.from_wire(
                    await call(stream, protocol.RESOLVE, {"provider": "gpt"})
                )
            assert (resolved.secret, resolved.source) == (SECRET, "store")
            server.stop()
    # The shutdown ran: the listener was closed, the key is in the store, no socket file.
    assert listener.closed
    assert SECRET in (data / "credentials.json").read_text()
    assert not (tmp_path / "no-socket-file").exists()
    assert not (tmp_path / "no-socket-file.lock").exists()
