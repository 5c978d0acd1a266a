"""Team keys for providers: read from the team store, cached with a TTL, served stale
while the store does not answer.

A key read from the store is kept in a session cache (the daemon's ``SessionCache``: the
same idle and maximum lifetimes as personal keys, and ``daemon lock`` forgets it) and
served for ``cache_ttl`` seconds; after that the next request reads it again, so a key
rotated in the store is seen within ``cache_ttl``. A provider the store has no key for is
remembered as absent for as long. When no node answers, a cached key keeps being served
for up to ``max_stale`` seconds past its TTL, with a warning in status; meanwhile the
store is asked again at most once a second, so requests do not queue behind timeouts.

Every call to the store runs in a worker thread (a limiter of its own, never the personal
store's) inside a deadline: a request for a personal key never waits on the team store.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

from nxuskit import protocol
from nxuskit.answers import AuthStatus, Resolution, TeamInfo, TeamLoggedOut, TeamOrigin, TeamStored
from nxuskit.credential import check_secret
from nxuskit.errors import InvalidArgument, NotAuthenticated, NxuskitError, PermissionDenied
from nxuskit.registry import ProviderSpec
from nxuskitd.cache import SessionCache
from nxuskitd.ratelimit import OncePerCause
from nxuskitd.single_flight import SingleFlight
from nxuskitd.team.session import PersonalStore, TeamSession
from nxuskitd.team.settings import TeamSettings
from nxuskitd.team.vault import TeamDenied, TeamMissing, TeamRefused, TeamUnreachable, Vault

log = logging.getLogger(__name__)
T = TypeVar("T")
RETRY_INTERVAL = 1.0
"""Seconds after a failed attempt during which the store is not asked again."""
THREADS = 4


@dataclasses.dataclass(frozen=True)
class TeamValue:
    """What the store holds for one provider: its key (None: none) and where it came from."""

    secret: str | None = dataclasses.field(repr=False)
    version: int | None
    address: str
    fetched: float  # time.monotonic() of the read


@dataclasses.dataclass
class Health:
    """Whether the store answered the last time it was asked, and since when it has not."""

    reachable: bool | None = None
    reason: str | None = None
    down_since: float | None = None  # wall time, for people
    last_failure: float = float("-inf")  # time.monotonic()


class TeamService:
    """One team store, as ``[team]`` describes it."""

    def __init__(
        self, settings: TeamSettings, store: PersonalStore, cache_idle: float | None,
        cache_max: float | None,
    ) -> None:  # fmt: skip
        self.settings = settings
        self.vault = Vault(settings)
        self.session = TeamSession(settings, self.vault, store, self.run, self._report)
        self.cache = SessionCache(cache_idle, cache_max)  # provider name -> TeamValue
        self.health = Health()
        self.scope: anyio.CancelScope | None = None
        """Set while ``keep_fresh`` runs (``TeamSlot`` cancels it when [team] changes)."""
        self._reads: SingleFlight[TeamValue] = SingleFlight()
        self._limiter = anyio.CapacityLimiter(THREADS)
        self._failures = OncePerCause(log)

    async def run(self, function: Callable[..., T], *args: Any) -> T:
        """``function(*args)`` (a blocking call to the store) in a worker thread, within
        a deadline: every node's timeout, twice (connect, then read), and a second."""
        limit = self.settings.timeout * 2 * len(self.settings.addresses) + 1
        with anyio.move_on_after(limit):
            return await anyio.to_thread.run_sync(
                functools.partial(function, *args), limiter=self._limiter, abandon_on_cancel=True
            )
        raise TeamUnreachable(f"no answer within {limit:g} s")

    async def keep_fresh(self) -> None:
        """Keep the token valid until cancelled (the daemon's lifetime)."""
        await self.session.keep_fresh()

    # -- reading keys ----------------------------------------------------------------

    async def value(self, spec: ProviderSpec) -> tuple[TeamValue, bool]:
        """The store's key for ``spec`` and whether it is stale (served from the cache
        while no node answers). Raises TeamUnreachable when none answers and nothing is
        cached, NotAuthenticated or PermissionDenied when the store refuses."""
        hit, entry = self.cache.get(spec.name)
        now = time.monotonic()
        if hit and now - entry.fetched < self.settings.cache_ttl:
            return entry, False
        try:
            return await self._reads.run(spec.name, lambda: self._fetch(spec)), False
        except TeamUnreachable as error:
            if hit and now - entry.fetched < self.settings.cache_ttl + self.settings.max_stale:
                return entry, True
            raise TeamUnreachable(
                f"the team store does not answer ({error.message}) and no key of "
                f"{spec.name} read from it is cached: try again when it is back"
            ) from None

    async def _fetch(self, spec: ProviderSpec) -> TeamValue:
        if time.monotonic() - self.health.last_failure < RETRY_INTERVAL:
            # it failed a moment ago: answer at once rather than queue behind timeouts
            raise TeamUnreachable(self.health.reason or "it did not answer")
        generation = self.cache.generation
        path = self.settings.secret_path(spec.name)
        try:
            secret = await self._read(path)
        except TeamUnreachable as error:
            self._down(error.message)
            raise
        except TeamMissing:
            value = TeamValue(None, None, self.vault.address, time.monotonic())
        except TeamDenied as error:
            self._up()
            every = self.settings.path.replace("{provider}", "*")
            raise PermissionDenied(
                f"the team store at {self.vault.address} denied reading "
                f"{self.settings.shown_path(spec.name)} ({error.message}): ask its admin for "
                f"read on {self.settings.mount}/data/{every} (docs/team.md shows the policy)"
            ) from None
        else:
            value = TeamValue(secret.value, secret.version, secret.address, time.monotonic())
        self._up()
        self.cache.put(spec.name, value, generation)
        return value

    async def _read(self, path: str) -> Any:
        return await self._authorized(self.vault.read, path, self.settings.field)

    async def _authorized(self, call: Callable[..., T], *args: Any) -> T:
        """``call(token, *args)`` in a worker thread, and once more with a new token when
        the store refused a revoked or expired one (a refused call changed nothing)."""
        token = await self.session.token()
        try:
            return await self.run(call, token, *args)
        except TeamDenied:
            if not await self.session.recover(token):
                raise  # the token is fine: a policy said no
        token = await self.session.token()  # the one it authenticated with again
        return await self.run(call, token, *args)

    def _down(self, reason: str) -> None:
        health = self.health
        if health.reachable is not False:
            health.down_since = time.time()
        health.reachable, health.reason = False, reason
        health.last_failure = time.monotonic()
        self._failures.warning(
            f"team: the team store does not answer ({reason}); cached team keys are served "
            f"up to {self.settings.max_stale:g} s past their TTL"
        )

    def _report(self, reason: str | None) -> None:
        if reason is None:
            if self.health.reachable is not True:
                self._up()
        else:
            self._down(reason)

    def _up(self) -> None:
        self.health = Health(reachable=True)
        self._failures.recovered("team: the team store answers again")

    async def resolve(self, spec: ProviderSpec, hint: str) -> Resolution:
        """``spec``'s key from the team store; NotAuthenticated (``hint`` first) when it
        has none."""
        value, _stale = await self.value(spec)
        if value.secret is None:
            where = self.settings.shown_path(spec.name)
            raise NotAuthenticated(f"{hint}; the team store has none at {where}")
        return Resolution(spec.name, value.secret, protocol.SOURCE_TEAM, protocol.API_KEY)

    async def status_of(self, spec: ProviderSpec) -> AuthStatus:
        """``spec``'s status as the team store decides it (never a secret). A store that
        refuses or does not answer makes it not authenticated; ``info`` says why."""
        methods, shown = list(spec.auth_methods), spec.display_name
        try:
            value, stale = await self.value(spec)
        except NxuskitError:
            value, stale = None, False
        if value is None or value.secret is None:
            return AuthStatus(
                spec.name, protocol.NOT_AUTHENTICATED, None, methods, display_name=shown
            )
        where = self.settings.shown_path(spec.name)
        origin = TeamOrigin(value.address, where, self.settings.field, value.version, stale)
        return AuthStatus(
            spec.name, protocol.AUTHENTICATED, protocol.SOURCE_TEAM, methods,
            auth_method=protocol.API_KEY, display_name=shown, team=origin,
        )  # fmt: skip

    # -- what people see and do -----------------------------------------------------

    def info(self) -> TeamInfo:
        """The team store as the daemon sees it now, without asking it."""
        settings, token, now = self.settings, self.session.current, time.monotonic()
        problem = self.session.problem
        left = token.left(now) if token is not None else None
        return TeamInfo(
            address=self.vault.address,
            addresses=list(settings.addresses),
            path=settings.shown_path(),
            field=settings.field,
            auth=settings.auth,
            insecure=settings.insecure,
            reachable=self.health.reachable,
            authenticated=True if token is not None else (False if problem else None),
            token_ttl=None if left is None else round(max(left, 0.0), 1),
            renewable=token.info.renewable if token is not None else None,
            policies=list(token.info.policies) if token is not None else [],
            cache_ttl=settings.cache_ttl,
            max_stale=settings.max_stale,
            cached=len(self.cache),
            warning=self._warning(),
            error=problem.message if problem is not None else None,
        )

    def _warning(self) -> str | None:
        health = self.health
        if health.reachable is not False:
            return None
        since = time.strftime("%H:%M:%S", time.localtime(health.down_since or time.time()))
        return (
            f"the team store does not answer since {since} ({health.reason}): cached team "
            f"keys are served up to {self.settings.max_stale:g} s past their "
            f"{self.settings.cache_ttl:g} s TTL"
        )

    async def check(self) -> TeamInfo:
        """``team.status``: ask the store about the token now, then ``info``."""
        try:
            await self.session.check()
        except TeamUnreachable as error:
            self._down(error.message)
        except NxuskitError as error:
            if self.session.problem is None:
                return _with_error(self.info(), error.message)
        else:
            self._up()
        return self.info()

    async def login(self, secret: str) -> TeamInfo:
        """``team.login``: check and keep the token (or secret_id); team keys read with
        another identity are forgotten."""
        try:
            await self.session.adopt(check_secret(secret))
        except TeamUnreachable as error:
            self._down(error.message)
            raise
        self.cache.drop()
        self._up()
        return self.info()

    async def logout(self) -> TeamLoggedOut:
        """``team.logout``: delete the stored credential and forget the team keys."""
        removed = await self.session.discard()
        return TeamLoggedOut(removed=removed, forgotten=self.cache.drop())

    def drop(self) -> int:
        """``daemon.lock``: forget the team keys and the token held in memory."""
        self.session.forget()
        return self.cache.drop()

    async def write(self, spec: ProviderSpec, secret: str) -> TeamStored:
        """``team.set_credential``: ``secret`` as a new version of ``spec``'s key."""
        if protocol.API_KEY not in spec.auth_methods:
            raise InvalidArgument(f"{spec.name} does not take an API key")
        value, path = check_secret(secret), self.settings.secret_path(spec.name)
        where = self.settings.shown_path(spec.name)
        try:
            version, address = await self._authorized(
                self.vault.write, path, self.settings.field, value
            )
        except TeamDenied as error:
            raise PermissionDenied(
                f"the team store at {self.vault.address} denied writing {where} "
                f"({error.message}): writes need create and update on "
                f"{self.settings.mount}/data/{path} (docs/team.md)"
            ) from None
        except TeamRefused as error:
            raise InvalidArgument(
                f"the team store refused the write to {where}: {error.message}"
            ) from None
        self.cache.forget(spec.name)
        self.cache.put(spec.name, TeamValue(value, version, address, time.monotonic()))
        log.info("team: wrote version %d of %s at %s", version, where, address)
        return TeamStored(spec.name, address, where, version)


def _with_error(info: TeamInfo, message: str) -> TeamInfo:
    info.error = message
    return info
