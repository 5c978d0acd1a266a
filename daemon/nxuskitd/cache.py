"""The shared unlocked session: what the daemon read from the store, kept for a while.

Like gpg-agent's cache, an entry is forgotten when it has not been used for ``idle``
seconds (default 10 minutes) and, used or not, ``maximum`` seconds after it was read
(default 2 hours); ``drop()`` (``nxuskit-cli daemon lock``) forgets everything at once.
The next read after that goes to the store again, which may ask the user to unlock it.

Python cannot wipe a string's memory; forgetting means dropping the daemon's references
so the secret is not served from memory any more and can be reclaimed.

Every drop bumps a generation number: a store read that started before a drop (or
before a write) does not put its now stale answer back (``put(..., generation)``).
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any


@dataclasses.dataclass
class _Entry:
    value: Any
    loaded: float
    used: float


class SessionCache:
    """Values by key, each forgotten after ``idle`` unused or ``maximum`` seconds in all.

    ``idle`` or ``maximum`` None means no such limit; 0 means nothing is kept.
    """

    def __init__(
        self,
        idle: float | None = 600.0,
        maximum: float | None = 7200.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.idle = idle
        self.maximum = maximum
        self.clock = clock
        self.generation = 0
        self._entries: dict[str, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def _expired(self, entry: _Entry, now: float) -> bool:
        if self.idle is not None and now - entry.used >= self.idle:
            return True
        return self.maximum is not None and now - entry.loaded >= self.maximum

    def get(self, key: str) -> tuple[bool, Any]:
        """``(True, value)`` for a live entry (its idle clock restarts), else ``(False, None)``."""
        entry = self._entries.get(key)
        if entry is None:
            return False, None
        now = self.clock()
        if self._expired(entry, now):
            del self._entries[key]
            return False, None
        entry.used = now
        return True, entry.value

    def put(self, key: str, value: Any, generation: int | None = None) -> None:
        """Keep ``value``; ignored when ``generation`` (taken before the read) is stale."""
        if generation is not None and generation != self.generation:
            return
        if self.idle == 0 or self.maximum == 0:
            self._entries.pop(key, None)
            return
        now = self.clock()
        self._entries[key] = _Entry(value, now, now)

    def lifetime_left(self, key: str) -> float:
        """Seconds until ``key``'s entry reaches its maximum lifetime (``math.inf`` with
        no maximum); 0 when it is not cached."""
        entry = self._entries.get(key)
        if entry is None:
            return 0.0
        if self.maximum is None:
            return math.inf
        return entry.loaded + self.maximum - self.clock()

    def forget(self, key: str) -> None:
        """Forget one entry, and make reads of it already under way not cache their answer."""
        self._entries.pop(key, None)
        self.generation += 1

    def drop(self) -> int:
        """Forget everything now; how many entries there were."""
        count = len(self._entries)
        self._entries.clear()
        self.generation += 1
        return count

    def expire(self) -> int:
        """Forget the entries past their time; how many."""
        now = self.clock()
        stale = [key for key, entry in self._entries.items() if self._expired(entry, now)]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def sweep_interval(self) -> float:
        """How often ``expire`` should run: a tenth of the shortest limit, 50 ms to 30 s."""
        limits = [limit for limit in (self.idle, self.maximum) if limit]
        return min(30.0, max(0.05, min(limits) / 10)) if limits else 30.0
