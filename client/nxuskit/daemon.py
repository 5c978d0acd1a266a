"""Asking the daemon about itself: module functions over the default ``Client``."""

from __future__ import annotations

from nxuskit.client import default_client

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nxuskit.answers import DaemonStatus


def daemon_status() -> DaemonStatus:
    """The running daemon's pid, version, protocol, uptime, socket, store, how it was
    started and its open connections (``daemon.status``; starts the daemon if allowed).
    Reads like the dict of earlier versions too (``status["pid"]``).

    Raises DaemonUnavailable, VersionMismatch.
    """
    return default_client().daemon_status()


def daemon_lock() -> int:
    """Make the daemon forget the secrets it has cached (``daemon.lock``), like
    ``gpg-connect-agent reloadagent``: the next resolve reads the store again, which may
    ask the user to unlock the OS keyring. Returns how many cache entries were dropped.

    Raises DaemonUnavailable, VersionMismatch.
    """
    return default_client().daemon_lock()
