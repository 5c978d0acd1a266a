"""Listeners hand the server connected byte streams with their peer's uid.

``Listener`` is the interface; ``UnixListener`` serves a Unix domain socket (bound by us,
or adopted from a service manager). A Windows named-pipe listener fits the same shape.
"""

from __future__ import annotations

import abc
import socket

from anyio.abc import ByteStream, SocketAttribute, SocketListener

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
    """A listening AF_UNIX stream socket."""

    def __init__(self, listener: SocketListener, path: str) -> None:
        self._listener = listener
        self.path = path
        self.description = f"unix:{path}"

    @classmethod
    async def from_socket(cls, sock: socket.socket, path: str) -> UnixListener:
        """Serve an already bound and listening socket."""
        return cls(await SocketListener.from_socket(sock), path)

    async def accept(self) -> tuple[ByteStream, int | None]:
        stream = await self._listener.accept()
        raw: socket.socket = stream.extra(SocketAttribute.raw_socket)
        try:
            uid = peer_uid(raw)
        except OSError:
            uid = None
        return stream, uid

    async def aclose(self) -> None:
        await self._listener.aclose()
