"""Asking the daemon about itself."""

from __future__ import annotations

from nxuskit import connection, protocol

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def daemon_status() -> dict[str, Any]:
    """The running daemon's pid, version, protocol, uptime, socket, store, how it was
    started and its open connections (``daemon.status``; starts the daemon if allowed).

    Raises DaemonUnavailable, VersionMismatch.
    """
    result: dict[str, Any] = connection.call(protocol.DAEMON_STATUS, {})
    return result
