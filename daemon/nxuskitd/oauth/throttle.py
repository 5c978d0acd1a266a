"""A warning that can be triggered at will (by any local user) logged without flooding.

The first occurrence is logged at once; later ones are counted, and at most one line per
``interval`` reports them with the count held back. ``flush`` reports what is left when
the thing being watched ends (a login's listener closing).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable


class ThrottledWarning:
    """One kind of warning (``message`` is a %-format), logged at most once per interval."""

    def __init__(
        self,
        logger: logging.Logger,
        message: str,
        interval: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._logger = logger
        self._message = message
        self._interval = interval
        self._clock = clock
        self._last: float | None = None
        self._held = 0
        self._args: tuple[object, ...] = ()

    def warn(self, *args: object) -> None:
        """Log ``message % args`` now, or count it for the next report."""
        now = self._clock()
        self._args = args
        if self._last is not None and now - self._last < self._interval:
            self._held += 1
            return
        self._last = now
        self._emit()

    def flush(self) -> None:
        """Report the occurrences held back, if any."""
        if self._held:
            self._emit()

    def _emit(self) -> None:
        if self._held:
            self._logger.warning(
                f"{self._message} (%d more like it since the last report)",
                *self._args,
                self._held,
            )
        else:
            self._logger.warning(self._message, *self._args)
        self._held = 0
