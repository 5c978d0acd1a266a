"""Listeners hand the server connected byte streams, each with a description of its peer.

``Listener`` is the interface the server needs; ``UnixListener`` serves a Unix domain
socket (bound by us, or adopted from a service manager). Another platform's transport
(a Windows named pipe, docs/windows.md) is one more subclass: it accepts, and says who
connected (``Peer.same_user``); the server refuses every other user whatever the
transport.
"""

from __future__ import annotations

import abc
import socket

import anyio
from anyio.abc import ByteStream, SocketStream

from nxuskitd import system
from nxuskitd.peer import Peer


class Listener(abc.ABC):
    """Accepts connections; ``description`` says where, for logs and status."""

    description: str

    @abc.abstractmethod
    async def accept(self) -> tuple[ByteStream, Peer]:
        """The next connection and who is on its other end."""

    @abc.abstractmethod
    async def aclose(self) -> None:
        """Stop accepting."""


class UnixListener(Listener):
    """A listening AF_UNIX stream socket.

    Accepted connections are wrapped as transport-based streams (``SocketStream.from_socket``)
    rather than anyio's raw-socket Unix streams: those register and unregister the fd with
    the event loop on every read, which cost about a third of a cached resolve.
    """

    def __init__(self, sock: socket.socket, path: str) -> None:
        sock.listen(512)  # again for an adopted socket: harmless, and sets our backlog
        sock.setblocking(False)
        self._sock = sock
        self.path = path
        self.description = f"unix:{path}"

    async def accept(self) -> tuple[ByteStream, Peer]:
        while True:
            try:
                conn, _ = self._sock.accept()
                break
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
        peer = system.peer_of(conn)
        return await SocketStream.from_socket(conn), peer

    async def aclose(self) -> None:
        if self._sock.fileno() < 0:
            return  # closed already (the server stops it, then the exit stack would again)
        anyio.notify_closing(self._sock)
        self._sock.close()
