"""Leave for clients to reuse a resolve without asking, and the watch kept while they do.

A client may answer a resolve from its own memory (``nxuskit.reuse``) while the
published generation (``nxuskitd.generation``) still holds the number its answer came
with. Time bounds that leave too, for what no generation move can announce:

- the session cache: the daemon reads an entry from the store again ``cache_max``
  seconds after reading it, or after ``cache_idle`` seconds unused, and only then sees an
  OS keyring entry edited with another tool. An answer is reused no longer than its
  entry lives (``seconds``) nor past ``idle`` seconds without a reuse: when the daemon
  would have read the store again for a client that asked every time;
- an OAuth token: only until its refresh is due (``expires_at`` minus the daemon's
  refresh margin, ``oauth.tokens.refresh_margin``), so the refresh happens as before.

A daemon whose cache keeps nothing (``--cache-idle 0``) grants no reuse at all.

Changes made behind the daemon's back (another daemon writing a shared file store,
credentials.json chmodded or moved, config.toml edited) are noticed when a request
comes; while clients reuse answers, requests may not come. So while any granted answer
may still be in use, the daemon looks every ``WATCH_INTERVAL`` seconds (a few ``stat``
calls) and moves the generation when it notices. That is the one window the cache adds:
such a change reaches a caching client up to ``WATCH_INTERVAL`` later than one that asks
every time. Changes made through any call of this daemon have no window.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import anyio

from nxuskit.answers import Reuse
from nxuskitd.cache import SessionCache
from nxuskitd.generation import Generation
from nxuskitd.stores import Record

WATCH_INTERVAL = 0.1
"""Seconds between looks at the store and config.toml while clients may reuse answers."""

MAX_SECONDS = 86400.0
"""The longest reuse granted, even by a daemon whose cache keeps entries for ever."""


class ReuseLedger:
    """Grants reuse of resolves, and remembers until when any granted one may be in use."""

    def __init__(self, published: Generation, cache: SessionCache) -> None:
        self._published = published
        self._cache = cache
        self._idle = cache.idle
        self.until = 0.0
        """``time.monotonic()`` time after which no granted answer is reused any more."""
        self._granted: anyio.Event | None = None  # wakes the watch after a quiet spell

    def grant(self, name: str, record: Record, generation: int) -> Reuse | None:
        """The leave to reuse the answer of ``name`` (``record``, read while the
        generation was ``generation``), or None when it must not be reused."""
        if not self._published.published:
            return None  # no file: clients cannot see the generation move
        seconds = min(self._cache.lifetime_left(name), MAX_SECONDS)
        if record.expires_at is not None:
            from nxuskitd.oauth.tokens import refresh_margin

            due = record.expires_at - refresh_margin(record)
            seconds = min(seconds, due - time.time())
        if seconds < 0.001:
            return None
        seconds = math.floor(seconds * 1000) / 1000  # never more than the daemon allows
        until = time.monotonic() + seconds
        if until > self.until:
            self.until = until
            granted = self._granted
            if granted is not None and not granted.is_set():
                granted.set()
        return Reuse(generation, seconds, self._idle)

    async def watch(self, notice: Callable[[], object]) -> None:
        """Call ``notice`` every WATCH_INTERVAL while a granted answer may be in use (it
        moves the generation when it finds a change); sleep otherwise. Runs until
        cancelled."""
        while True:
            if time.monotonic() >= self.until:
                self._granted = anyio.Event()
                await self._granted.wait()
            await anyio.sleep(WATCH_INTERVAL)
            notice()
