"""Listeners hand the server connected byte streams with their peer's uid.

``Listener`` is the interface; ``UnixListener`` serves a Unix domain socket (bound by us,
or adopted from a service manager). A Windows named-pipe listener fits the same shape.
"""

from __future__ import annotations

import abc
import socket

import anyio
from anyio.abc import ByteStream, SocketStream

from nxuskitd.peer import peer_uid


class Listener(abc.ABC):
    """Accepts connections; ``description`` says where, for logs and status."""

    description: str

    @abc.abstractmethod
    async def accept(self) -> tuple[ByteStream, int | None]:
        """The next connection and its peer's uid (None where unknown)."""

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

    @classmethod
    async def from_socket(cls, sock: socket.socket, path: str) -> UnixListener:
        """Serve an already bound and listening socket."""
        return cls(sock, path)

    async def accept(self) -> tuple[ByteStream, int | None]:
        while True:
            try:
                conn, _ = self._sock.accept()
                break
            except BlockingIOError:
                await anyio.wait_readable(self._sock)
        try:
            uid = peer_uid(conn)
        except OSError:
            uid = None
        return await SocketStream.from_socket(conn), uid

    async def aclose(self) -> None:
        anyio.notify_closing(self._sock)
        self._sock.close()
