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


def daemon_lock() -> int:
    """Make the daemon forget the secrets it has cached (``daemon.lock``), like
    ``gpg-connect-agent reloadagent``: the next resolve reads the store again, which may
    ask the user to unlock the OS keyring. Returns how many cache entries were dropped.

    Raises DaemonUnavailable, VersionMismatch.
    """
    result = connection.call(protocol.DAEMON_LOCK, {})
    return int(result.get("forgotten", 0)) if isinstance(result, dict) else 0
