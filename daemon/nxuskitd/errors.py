"""The daemon's own exception. Errors that cross the wire are ``nxuskit.errors``'s tree."""

from __future__ import annotations


class StartupError(Exception):
    """The daemon cannot start; the message says why and what to do."""
