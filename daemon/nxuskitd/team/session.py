"""The daemon's token for the team store: obtained, renewed before it expires, replaced.

With ``auth = "token"`` the token is one a person gave ``nxuskit-cli team login``, kept in
the personal store (the OS keyring or the file store) under ``TOKEN_NAME``; with
``auth = "approle"`` the daemon logs in with the role_id of config.toml and a secret_id
read from ``secret_id_file`` (or kept in the personal store under ``SECRET_ID_NAME``).
These names hold a ``:``, which no provider name can.

As Vault Agent does, ``keep_fresh`` renews the token once two thirds of its TTL have
passed; a request that finds it expired renews or logs in itself. Either way it is one
call however many requests arrive (``SingleFlight``). When renewal fails (revoked, past
its maximum TTL), AppRole logs in again; a person's token cannot be replaced, and every
team request then says "not authenticated to the team store" with the fix.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

import anyio

from nxuskit.errors import InvalidArgument, NotAuthenticated, NxuskitError
from nxuskitd.ratelimit import OncePerCause
from nxuskitd.single_flight import SingleFlight
from nxuskitd.stores import Record
from nxuskitd.team.secret_file import read_secret_id
from nxuskitd.team.settings import TeamSettings
from nxuskitd.team.vault import TeamDenied, TeamRefused, TeamUnreachable, TokenInfo, Vault

log = logging.getLogger(__name__)
T = TypeVar("T")
TOKEN_NAME = ":team-token"  # noqa: S105 - a store entry's name, not a password
SECRET_ID_NAME = ":team-secret-id"  # noqa: S105 - likewise
EXPIRY_MARGIN = 1.0  # seconds: a token this close to its end is treated as expired


class PersonalStore(Protocol):
    """The personal store, as the CredentialService offers it to the team layer."""

    async def record(self, name: str) -> Record | None:
        """The record stored under ``name`` (cached), or None."""

    async def store_record(self, name: str, record: Record) -> None:
        """Store ``record`` under ``name``."""

    async def delete_record(self, name: str) -> bool:
        """Delete the record under ``name``; whether there was one."""


Runner = Callable[..., Awaitable[Any]]
"""Runs a blocking function in a worker thread with the team's timeout."""


@dataclasses.dataclass
class Token:
    """A token and what the store said of it when it was obtained or last renewed."""

    value: str = dataclasses.field(repr=False)
    info: TokenInfo
    obtained: float  # time.monotonic() of that answer
    own: bool  # the daemon logged in for it (AppRole): revoked at logout
    lease: float = 0.0  # the TTL it had at login, to tell a renewal that no longer extends

    def left(self, now: float) -> float | None:
        """Seconds until it expires, or None when it never does."""
        return None if not self.info.ttl else self.obtained + self.info.ttl - now

    def expired(self, now: float) -> bool:
        left = self.left(now)
        return left is not None and left <= EXPIRY_MARGIN

    def renew_at(self) -> float | None:
        """When to renew it: two thirds into its TTL (None: it never expires)."""
        return None if not self.info.ttl else self.obtained + self.info.ttl * 2 / 3


class TeamSession:
    """The token of one team store, and everything that keeps it valid."""

    def __init__(
        self,
        settings: TeamSettings,
        vault: Vault,
        store: PersonalStore,
        run: Runner,
        report: Callable[[str | None], None],
    ) -> None:
        self.settings = settings
        self.vault = vault
        self.store = store
        self.run = run
        self.report = report
        """Told whether the store answered (None) or why not, by the background work."""
        self.problem: NxuskitError | None = None
        """Why the last attempt to authenticate failed (None: it did not)."""
        self._token: Token | None = None
        self._flight: SingleFlight[Any] = SingleFlight()
        self._changed = anyio.Event()
        self._failures = OncePerCause(log)

    @property
    def current(self) -> Token | None:
        """The token in use, if any."""
        return self._token

    def _set(self, token: Token | None) -> None:
        if token is None and self._token is None:
            return  # nothing changed: keep_fresh goes on waiting
        self._token = token
        self._changed.set()  # wakes keep_fresh
        self._changed = anyio.Event()

    def forget(self) -> None:
        """Drop the token from memory (``daemon lock``): the next request obtains it again."""
        self._set(None)

    # -- getting a token -------------------------------------------------------------

    async def token(self) -> str:
        """A token that has not expired: obtained (or renewed) first when needed.

        Raises NotAuthenticated ("not authenticated to the team store ...") when none can
        be had, TeamUnreachable when no node answers.
        """
        token = self._token
        if token is None or token.expired(time.monotonic()):
            token = await self._flight.run("token", self._refresh)
        return token.value

    async def _refresh(self) -> Token:
        """Renew the current token when that still works, else log in again."""
        token = self._token
        now = time.monotonic()
        if token is not None:
            if not token.expired(now) and not self._renewal_due(token, now):
                return token  # another caller renewed it while this one queued
            if token.info.renewable:
                try:
                    return await self._renew(token)
                except (TeamDenied, TeamRefused):
                    log.info("the team store refused to renew the token: logging in again")
        return await self._login()

    def _renewal_due(self, token: Token, now: float) -> bool:
        renew_at = token.renew_at()
        return renew_at is not None and now >= renew_at

    async def _renew(self, token: Token) -> Token:
        info: TokenInfo = await self.run(self.vault.renew, token.value)
        renewed = Token(token.value, info, time.monotonic(), token.own, token.lease)
        if token.own and token.lease and info.ttl < token.lease / 3:
            # near its maximum TTL: a renewal no longer extends it, a login does
            return await self._login()
        self._set(renewed)
        log.debug("renewed the team token: ttl %g s", info.ttl)
        return renewed

    async def _login(self) -> Token:
        try:
            token = await (self._approle() if self.settings.auth == "approle" else self._stored())
        except TeamUnreachable:
            raise
        except NxuskitError as error:
            self._set(None)
            self.problem = self.not_authenticated(error.message)
            self._failures.warning(f"team: {self.problem.message}")
            raise self.problem from None
        self.problem = None
        self._failures.recovered("team: authenticated to the team store again")
        self._set(token)
        policies = ", ".join(token.info.policies) or "none"
        log.info(
            "team: authenticated to %s (%s; token ttl %g s, policies: %s)",
            self.vault.address, self.settings.auth, token.info.ttl, policies,
        )  # fmt: skip
        return token

    async def _stored(self) -> Token:
        record = await self.store.record(TOKEN_NAME)
        if record is None:
            raise NotAuthenticated("no team token is stored")
        try:
            info = await self.run(self.vault.lookup, record.secret)
        except TeamDenied:
            raise NotAuthenticated(
                "the store refused the stored token (expired or revoked)"
            ) from None
        return Token(record.secret, info, time.monotonic(), own=False, lease=info.ttl)

    async def _approle(self, secret_id: str | None = None) -> Token:
        role_id = self.settings.role_id or ""
        if secret_id is None:
            secret_id = await self._secret_id()
        try:
            value, info = await self.run(self.vault.login_approle, role_id, secret_id)
        except (TeamDenied, TeamRefused) as error:
            raise NotAuthenticated(f"the AppRole login was refused ({error.message})") from None
        return Token(value, info, time.monotonic(), own=True, lease=info.ttl)

    async def _secret_id(self) -> str:
        if self.settings.secret_id_file is not None:
            secret_id: str = await self.run(read_secret_id, self.settings.secret_id_file)
            return secret_id
        record = await self.store.record(SECRET_ID_NAME)
        if record is None:
            raise NotAuthenticated("no AppRole secret_id: set secret_id_file, or store one")
        return record.secret

    def not_authenticated(self, why: str) -> NotAuthenticated:
        """The error every team request meets while no token can be had, with the fix."""
        if self.settings.auth == "approle":
            where = self.settings.secret_id_file or "the one `nxuskit-cli team login` stored"
            fix = (
                f"check role_id in {self.settings.source} and the secret_id ({where}); "
                "`nxuskit-cli team login` stores a new secret_id"
            )
        else:
            fix = "run `nxuskit-cli team login` with a valid token"
        return NotAuthenticated(
            f"not authenticated to the team store at {self.vault.address}: {why}; {fix}"
        )

    async def recover(self, refused: str) -> bool:
        """After the store refused ``refused`` (a token) on a read: whether a new token is
        now in use (retry the read), or the token is fine and a policy said no."""
        return bool(await self._flight.run(("recover", refused), lambda: self._recover(refused)))

    async def _recover(self, refused: str) -> bool:
        current = self._token
        if current is not None and current.value != refused:
            return True  # replaced meanwhile
        try:
            await self.run(self.vault.lookup, refused)
        except TeamDenied:
            log.info("team: the token was refused (revoked or expired): authenticating again")
            self._set(None)
            await self.token()
            return True
        return False

    # -- what people do --------------------------------------------------------------

    async def adopt(self, secret: str) -> None:
        """``team login``: check ``secret`` (the token, or the AppRole secret_id) with the
        store, keep it in the personal store, and use it from now on."""
        if self.settings.auth == "approle":
            if self.settings.secret_id_file is not None:
                raise InvalidArgument(
                    f"secret_id_file is set in {self.settings.source}, so the secret_id is "
                    "read from that file: write it there, or remove secret_id_file to keep "
                    "it in the personal store"
                )
            token = await self._checked(self._approle(secret))
            name = SECRET_ID_NAME
        else:
            token = await self._checked(self._given(secret))
            name = TOKEN_NAME
        await self.store.store_record(name, Record(secret=secret, auth_method="team"))
        self.problem = None
        self._set(token)
        log.info("team: %s stored; authenticated to %s", name.lstrip(":"), self.vault.address)

    async def _given(self, secret: str) -> Token:
        try:
            info = await self.run(self.vault.lookup, secret)
        except TeamDenied:
            raise NotAuthenticated("the store refused this token (expired or revoked)") from None
        return Token(secret, info, time.monotonic(), own=False, lease=info.ttl)

    async def _checked(self, login: Awaitable[Token]) -> Token:
        try:
            return await login
        except NotAuthenticated as error:
            raise self.not_authenticated(f"{error.message}; nothing was stored") from None
        except TeamUnreachable as error:
            raise TeamUnreachable(
                f"cannot check it with the team store, so nothing was stored: {error.message}"
            ) from None

    async def discard(self) -> bool:
        """``team logout``: delete the stored credential, revoke a token the daemon logged
        in for (a person's token is theirs to revoke), forget it; whether one was stored."""
        # Deleted first: keep_fresh, woken by the change, must find nothing to log in with.
        removed = await self.store.delete_record(TOKEN_NAME)
        removed = await self.store.delete_record(SECRET_ID_NAME) or removed
        token = self._token
        self.problem = self.not_authenticated("logged out")
        self._set(None)
        if token is not None and token.own:
            try:
                await self.run(self.vault.revoke, token.value)
            except NxuskitError as error:
                log.info("team: could not revoke the AppRole token at logout: %s", error.message)
        return removed

    async def check(self) -> TokenInfo:
        """``team status``: what the store says of the token now (TTL, policies)."""
        value = await self.token()
        try:
            info: TokenInfo = await self.run(self.vault.lookup, value)
        except TeamDenied:
            if not await self.recover(value):
                raise
            value = await self.token()
            info = await self.run(self.vault.lookup, value)
        token = self._token
        if token is not None and token.value == value:
            self._token = Token(value, info, time.monotonic(), token.own, token.lease)
        return info

    # -- renewal in the background -----------------------------------------------------

    async def keep_fresh(self) -> None:
        """Renew the token before it expires, and log in while none is held, until
        cancelled; waits while nothing can be done (no token stored: ``team login``)."""
        backoff = 1.0
        while True:
            changed, token = self._changed, self._token
            try:
                if token is None:
                    await self.token()
                else:
                    await self._renew_when_due(token, changed)
                self.report(None)
                backoff = 1.0
            except TeamUnreachable as error:
                self.report(error.message)
                with anyio.move_on_after(backoff):
                    await changed.wait()
                backoff = min(backoff * 2, 30.0)
            except NxuskitError:
                await changed.wait()  # logged by _login; a team login changes it

    async def _renew_when_due(self, token: Token, changed: anyio.Event) -> None:
        renew_at = token.renew_at()
        if renew_at is None:
            await changed.wait()
            return
        with anyio.move_on_after(max(0.0, renew_at - time.monotonic())):
            await changed.wait()
            return
        await self._flight.run("token", self._refresh)
