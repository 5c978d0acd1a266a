"""Who is on the other end of an accepted connection, as the platform tells it.

The server only asks ``same_user``: the daemon serves its own user and refuses everyone
else. ``user`` groups refusals in the log (one line per refused user, not per
connection); ``label`` names the peer in log lines; ``pid`` and ``executable`` are kept
where the OS gives them (Linux) for an audit trail. How each platform finds out is in
its implementation module (``nxuskitd.posix`` for Unix sockets).
"""

from __future__ import annotations

import contextvars
import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Peer:
    """The process that connected: whether it runs as this daemon's user, and who it is."""

    same_user: bool
    user: str
    """The peer's user as the OS names it ("uid 1000"; an SID on Windows)."""
    label: str
    """For log lines: "uid 1000 pid 4242"."""
    pid: int | None = None
    executable: str | None = None


UNKNOWN = Peer(same_user=False, user="an unknown user", label="an unknown user")
"""A peer the OS could not describe: refused, as another user would be."""

CURRENT: contextvars.ContextVar[Peer | None] = contextvars.ContextVar("peer", default=None)
"""The peer of the connection whose request runs now (None outside one). The server sets
it in each connection's own task; a task a request starts (a login) inherits a copy, so
the audit trail knows who asked without a peer parameter on every handler."""
