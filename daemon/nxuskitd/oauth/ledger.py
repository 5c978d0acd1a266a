"""The logins an ``OAuthManager`` knows: those running, and the outcomes of finished ones.

A running login is found by its id and by its provider (a provider has at most one: a
newer login replaces the older). A finished login stays so that ``auth.login_wait`` can
still collect its outcome, but only for ``KEEP_FINISHED`` seconds and only the latest
``MAX_FINISHED`` of them, oldest dropped first: a client that starts and cancels logins
in a loop must not grow the daemon. Every operation costs the same however many logins
came before (expired outcomes leave from the front of an ordered dict).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from nxuskit.answers import Logins
from nxuskitd.oauth.flows import Login

KEEP_FINISHED = 120.0
"""How long a finished login's outcome stays available to ``auth.login_wait`` (seconds)."""
MAX_FINISHED = 64
"""How many finished logins' outcomes are kept at most."""


class Ledger:
    """Running logins and recent outcomes, with bounded memory."""

    def __init__(
        self,
        keep: float = KEEP_FINISHED,
        limit: int = MAX_FINISHED,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.keep = keep
        self.limit = limit
        self._clock = clock
        self._running: dict[str, Login] = {}  # by id
        self._by_provider: dict[str, Login] = {}
        self._finished: OrderedDict[str, tuple[float, Login]] = OrderedDict()

    def add(self, login: Login) -> Login | None:
        """Record a started login; the running login of its provider it replaces."""
        replaced = self._by_provider.get(login.provider)
        self._running[login.id] = login
        self._by_provider[login.provider] = login
        return replaced

    def running_for(self, provider: str) -> Login | None:
        """The login of ``provider`` still running, if any."""
        login = self._by_provider.get(provider)
        return login if login is not None and not login.done.is_set() else None

    def pending(self) -> int:
        """How many logins have no outcome yet."""
        return sum(not login.done.is_set() for login in self._running.values())

    def finish(self, login: Login) -> None:
        """Move an ended login's outcome to the finished ones."""
        self._running.pop(login.id, None)
        if self._by_provider.get(login.provider) is login:
            del self._by_provider[login.provider]
        self._finished[login.id] = (self._clock(), login)
        self._prune()

    def get(self, login_id: str) -> Login | None:
        """The running or finished login called ``login_id`` (None once forgotten)."""
        self._prune()
        running = self._running.get(login_id)
        if running is not None:
            return running
        kept = self._finished.get(login_id)
        return kept[1] if kept is not None else None

    def running(self) -> list[Login]:
        """The logins still running (a copy)."""
        return list(self._running.values())

    def counts(self) -> Logins:
        """How many logins run and how many outcomes are kept, for ``daemon.status``."""
        self._prune()
        return Logins(running=len(self._running), finished=len(self._finished))

    def _prune(self) -> None:
        cutoff = self._clock() - self.keep
        while self._finished:
            login_id, (ended, _login) = next(iter(self._finished.items()))
            if ended > cutoff and len(self._finished) <= self.limit:
                break
            del self._finished[login_id]
