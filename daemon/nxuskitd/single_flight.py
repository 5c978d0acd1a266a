"""One call per key at a time, its outcome shared by everyone who asked meanwhile.

Used for store reads (a hundred clients resolving a key nobody has cached cost one
keyring read, not a hundred) and for OAuth refresh (concurrent resolves of an expiring
token wait on one refresh: a rotating refresh token spent twice gets the grant revoked).

The first caller of a key runs the call; later callers of the same key wait for it and
get its value, or a fresh copy of its ``NxuskitError`` (an error object is raised in one
task only). When the first caller ends without an outcome (it was cancelled), a waiter
runs the call again itself rather than inherit the cancellation.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar, cast

import anyio

from nxuskit.errors import NxuskitError

T = TypeVar("T")


class _Flight(Generic[T]):
    """One call in progress, and its outcome once ``done`` is set."""

    __slots__ = ("done", "error", "finished", "value")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.value: T | None = None
        self.error: NxuskitError | None = None
        self.finished = False


class SingleFlight(Generic[T]):
    """Calls in flight, by key."""

    def __init__(self) -> None:
        self._flights: dict[Hashable, _Flight[T]] = {}

    def busy(self) -> bool:
        """Whether any call is in flight."""
        return bool(self._flights)

    def forget(self) -> None:
        """Later callers start new calls instead of joining those in flight (whose
        answers may predate a change); those already waiting still get them."""
        self._flights.clear()

    async def run(self, key: Hashable, call: Callable[[], Awaitable[T]]) -> T:
        """``call()``'s outcome, shared with every caller of ``key`` while it runs."""
        while True:
            flight = self._flights.get(key)
            if flight is None:
                break
            await flight.done.wait()
            if flight.error is not None:
                raise type(flight.error)(flight.error.message)
            if flight.finished:
                return cast(T, flight.value)
            # the caller that ran it was cancelled: try again, maybe as the one who runs it
        flight = self._flights[key] = _Flight()
        try:
            value = await call()
        except NxuskitError as error:
            flight.error = error
            raise
        else:
            flight.value, flight.finished = value, True
            return value
        finally:
            if self._flights.get(key) is flight:
                del self._flights[key]
            flight.done.set()
