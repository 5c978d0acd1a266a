"""Log lines that outsiders or a broken store can repeat without end, kept to a few.

``RateLimitedLog``: an event that anyone can cause again and again (another user's
connection, refused; a request to a login's callback for another host) is logged the
first time, then at most once per interval with the number of lines left out, so a flood
cannot fill the disk or bury the log. The daemon's one rate-limited logger: the server's
refusals and the OAuth callback listener both use it.

``OncePerCause``: a failure that every request meets while it lasts (a corrupt store file)
is logged once per distinct cause, and again only after things worked in between.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class _Event:
    __slots__ = ("logged_at", "message", "suppressed")

    def __init__(self, logged_at: float, message: str) -> None:
        self.logged_at = logged_at
        self.message = message
        self.suppressed = 0


class RateLimitedLog:
    """WARNING lines per ``key``: the first at once, then at most one per ``interval``
    seconds, which says how many were left out. ``flush()`` (called about once a second)
    writes that count once a flood stops, rather than at the next event, which may never
    come."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._interval = interval
        self._clock = clock
        self._events: dict[str, _Event] = {}

    def warning(self, key: str, message: str) -> bool:
        """Log ``message`` (already formatted) unless ``key`` was logged within the
        interval; True when it was written."""
        now = self._clock()
        event = self._events.get(key)
        if event is not None and now - event.logged_at < self._interval:
            event.suppressed += 1
            event.message = message
            return False
        left_out = event.suppressed if event is not None else 0
        self._write(message, left_out, now - event.logged_at if event is not None else 0.0)
        self._events[key] = _Event(now, message)
        return True

    def flush(self, final: bool = False) -> None:
        """Write the count of each key's events left out over a finished interval, and
        forget keys that have been quiet for one. ``final``: the thing watched is over
        (a login's listener closed): write every count held back now, interval or not."""
        now = self._clock()
        for key, event in list(self._events.items()):
            if now - event.logged_at < self._interval and not (final and event.suppressed):
                continue
            if event.suppressed:
                # The line stands for the last event left out; the count for the others.
                self._write(event.message, event.suppressed - 1, now - event.logged_at)
                event.logged_at, event.suppressed = now, 0
            else:
                del self._events[key]

    def _write(self, message: str, left_out: int, span: float) -> None:
        if left_out:
            message += f" (and {left_out} more like it in the last {span:.0f}s)"
        self._logger.warning("%s", message)


class OncePerCause:
    """WARNING lines for a failure that repeats while it lasts: one per distinct cause
    until ``recovered()``; at most ``limit`` causes are remembered at once."""

    def __init__(self, logger: logging.Logger, limit: int = 64) -> None:
        self._logger = logger
        self._limit = limit
        self._seen: set[str] = set()

    def warning(self, cause: str) -> bool:
        """Log ``cause`` unless it was logged since the last ``recovered()``; True if so."""
        if cause in self._seen:
            return False
        if len(self._seen) >= self._limit:  # causes that vary without end: start over
            self._seen.clear()
        self._seen.add(cause)
        self._logger.warning("%s", cause)
        return True

    def recovered(self, what: str) -> None:
        """Things work again: say so once, and log each cause again when it comes back."""
        if self._seen:
            self._seen.clear()
            self._logger.info("%s", what)
