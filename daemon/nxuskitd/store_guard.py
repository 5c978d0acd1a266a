"""The guard every store call passes: a worker thread, one call at a time, a timeout, a
cap on calls left hanging, late writes noticed, and failures logged once per cause.

A store may block (a keyring waiting on D-Bus or on an unlock prompt). Its caller then
gets ``store_unavailable`` after the timeout, and the daemon serves everything else; the
thread cannot be killed, so it is abandoned and counted as stuck until it returns. A call
given up on before its thread began is skipped, never run late.

A write given up on can still finish later, in its abandoned thread: the store then
holds something the cache does not know. Such a write is logged when it returns, and the
name it wrote is handed to the service (``finished_late``), which forgets its cached
entry, so the next read asks the store for the truth whatever the order of late writes.

While a store keeps failing, every request meets the same failure: it is logged once per
distinct cause (the file or backend and why, never a stored value), and once more when
the store answers again.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from nxuskit import registry
from nxuskit.errors import NxuskitError, PermissionDenied, StoreUnavailable
from nxuskitd.ratelimit import OncePerCause
from nxuskitd.stores import Store

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_STUCK = 4  # store calls left hanging before new ones fail at once


class _Call:
    """One call's progress, shared by its thread and its caller (under the lock)."""

    def __init__(self, changes: str | None) -> None:
        self.changes = changes
        self.started = False
        self.ended = False
        self.abandoned = False


class StoreGuard:
    """Runs store calls with a ``timeout`` (seconds) and keeps count of the stuck ones."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._failures = OncePerCause(log)
        self.stuck = 0
        """Calls given up on whose threads still wait (a hung keyring)."""
        self._lock = threading.Lock()
        self._limiter = anyio.CapacityLimiter(1)
        self._late: list[str] = []

    @property
    def late(self) -> bool:
        """Whether ``finished_late`` has names to give (a check without the lock, cheap
        enough for every request; a name added meanwhile is given next time)."""
        return bool(self._late)

    def finished_late(self) -> list[str]:
        """The names that writes given up on have changed since the last ask (once each)."""
        with self._lock:
            names, self._late = self._late, []
        return names

    def _begin(self, call: _Call) -> None:
        with self._lock:
            if call.abandoned:  # the caller gave up before the thread began: skip it
                raise StoreUnavailable("abandoned")
            call.started = True

    def _late_write(self, call: _Call, outcome: str) -> None:
        """Note (under the lock) a write its caller gave up on that has now returned."""
        if call.changes is None:
            return
        self._late.append(call.changes)
        log.warning(
            "a store write for %s that had timed out %s later; its cached entry is forgotten",
            registry.shown_name(call.changes),
            outcome,
        )

    def _end(self, call: _Call, outcome: str) -> None:
        with self._lock:
            call.started, call.ended = False, True
            if call.abandoned:
                self.stuck -= 1  # counted as stuck when its caller gave up
                self._late_write(call, outcome)

    def _abandon(self, call: _Call) -> None:
        with self._lock:
            call.abandoned = True
            if call.started:  # still running in its thread: it hangs
                self.stuck += 1
            elif call.ended:  # it returned just as its caller gave up: unseen, so late
                self._late_write(call, "returned")

    async def call(
        self, store: Store, function: Callable[..., T], *args: Any, changes: str | None = None
    ) -> T:
        """``function(*args)`` (a method of ``store``) in a worker thread; ``changes``
        names the credential a write changes (None for a read).

        Raises StoreUnavailable when it fails, does not answer within the timeout, or
        too many earlier calls still hang; PermissionDenied when the store is exposed.
        """
        try:
            result = await self._run(store, function, *args, changes=changes)
        except (StoreUnavailable, PermissionDenied) as error:
            self._failures.warning(f"credential store error: {error.message}")
            raise
        self._failures.recovered("the credential store answers again")
        return result

    async def _run(
        self, store: Store, function: Callable[..., T], *args: Any, changes: str | None
    ) -> T:
        if self.stuck >= MAX_STUCK:  # each call would leave one more thread hanging
            raise StoreUnavailable(
                f"the credential store ({store.description}) is not answering: "
                f"{self.stuck} earlier calls still wait for it"
            )
        call = _Call(changes)

        def in_thread() -> T:
            self._begin(call)
            outcome = "failed"
            try:
                result = function(*args)
                outcome = "finished"
                return result
            finally:
                self._end(call, outcome)

        answered = False  # the thread's result or error reached this caller
        try:
            with anyio.move_on_after(self.timeout):
                result = await anyio.to_thread.run_sync(
                    in_thread, limiter=self._limiter, abandon_on_cancel=True
                )
                answered = True
                return result
        except NxuskitError:
            answered = True
            raise
        except Exception as exc:
            answered = True  # logged by call(), once per cause
            raise StoreUnavailable(
                f"the credential store ({store.kind}) failed: {type(exc).__name__}"
            ) from None
        finally:
            if not answered:  # timed out, or the caller was cancelled
                self._abandon(call)
        hint = " (a hung D-Bus, or an unlock prompt nobody answered?)"
        raise StoreUnavailable(
            f"the credential store ({store.description}) did not answer within "
            f"{self.timeout:g}s{hint if store.kind == 'keyring' else ''}"
        )
