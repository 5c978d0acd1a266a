"""Keeping OAuth access tokens fresh: the daemon is the one process that refreshes.

``Refresher.fresh`` answers a resolve: a token outside its refresh margin is returned as
it is; otherwise one refresh per provider runs, and every concurrent resolve of that
provider waits for it and shares its outcome. Daemons that share a store also share the
refresh: each one takes the provider's cross-process lock (``lock``), re-reads the
stored record under it (another daemon may have refreshed, or a login replaced it), and
stores the rotated refresh token before it lets go and before anyone is answered. A
rotating refresh token used twice gets the whole grant revoked at many servers, which
is how tools that refresh in each process log their users out. A refresh runs shielded
from its first caller's cancellation, bounded by its own timeout.

``invalid_grant`` means the login is over, unless the record was replaced meanwhile:
still under the lock, the record is read again; a newer one is used, and only a record
still holding the dead refresh token is removed. Callers then get not_authenticated
with the fix, and so does every later resolve (``CredentialService.login_ended``).
"""

from __future__ import annotations

import logging

import anyio

from nxuskit import protocol
from nxuskit.errors import LoginFailed, NotAuthenticated, NxuskitError
from nxuskit.registry import ProviderSpec
from nxuskitd.credentials import CredentialService
from nxuskitd.oauth import http
from nxuskitd.oauth.lock import LockBusy, provider_lock
from nxuskitd.oauth.settings import login_hint, settings_for
from nxuskitd.oauth.tokens import is_expired, needs_refresh
from nxuskitd.single_flight import SingleFlight
from nxuskitd.stores import Record

log = logging.getLogger(__name__)

REFRESH_TIMEOUT = 30.0
DEAD_GRANT_ERRORS = frozenset(("invalid_grant", "invalid_token", "unauthorized_client"))


class Refresher:
    """Refreshes tokens for ``service``'s store, one refresh per provider at a time."""

    def __init__(self, service: CredentialService) -> None:
        self._service = service
        self._flights: SingleFlight[Record] = SingleFlight()

    def busy(self) -> bool:
        """Whether a refresh is in progress."""
        return self._flights.busy()

    async def fresh(self, spec: ProviderSpec, record: Record) -> Record:
        """``record``, or a refreshed one when its access token is (nearly) expired."""
        if not needs_refresh(record):
            return record
        return await self.refresh(spec, record, forced=False)

    async def refresh(self, spec: ProviderSpec, seen: Record, forced: bool) -> Record:
        """Refresh ``spec``'s token (or join the refresh already running).

        ``seen`` is the record the caller holds; ``forced`` refreshes even a token that
        looks valid (a client reported it rejected) unless the stored one changed since.
        Raises NotAuthenticated (the login is over) or LoginFailed (no refresh now).
        """
        return await self._flights.run(spec.name, lambda: self._shielded(spec, seen, forced))

    async def _shielded(self, spec: ProviderSpec, seen: Record, forced: bool) -> Record:
        """One refresh, shielded from its first caller's cancellation (others wait on
        it); anything but an NxuskitError is logged and becomes LoginFailed."""
        try:
            with anyio.CancelScope(shield=True):
                record = await self._refresh(spec, seen, forced)
        except NxuskitError:
            raise
        except Exception:
            log.exception("refreshing the %s token failed", spec.name)
            raise LoginFailed(
                f"refreshing the {spec.name} token failed; see the nxuskitd log"
            ) from None
        return record

    async def _refresh(self, spec: ProviderSpec, seen: Record, forced: bool) -> Record:
        try:
            async with provider_lock(self._service.data_dir, spec.name):
                return await self._refresh_locked(spec, seen, forced)
        except LockBusy as busy:
            if not forced and not is_expired(seen):
                log.warning("refresh of %s postponed: %s", spec.name, busy)
                return seen
            raise

    async def _refresh_locked(self, spec: ProviderSpec, seen: Record, forced: bool) -> Record:
        name, hint = spec.name, login_hint(spec.name)
        current = await self._service.reload_record(name)
        if current is None:
            raise NotAuthenticated(f"{name} is not logged in: {hint}")
        if current.auth_method != protocol.OAUTH:
            return current  # replaced by an API key meanwhile
        if current.secret != seen.secret and not needs_refresh(current):
            return current  # refreshed, or logged in again, since the caller looked
        if not current.refresh_token:
            if forced or is_expired(current):
                raise NotAuthenticated(f"the {name} login has expired (no refresh token): {hint}")
            return current
        settings = settings_for(spec)
        endpoint = http.host_of(settings.token_url)
        try:
            with anyio.fail_after(REFRESH_TIMEOUT):
                tokens = await http.refresh(settings, current.refresh_token)
        except http.TokenError as error:
            if error.error in DEAD_GRANT_ERRORS:
                return await self._after_dead_grant(name, current, error.error)
            raise LoginFailed(
                f"could not refresh the {name} token: {endpoint} answered {error.explained}"
            ) from None
        except (http.EndpointUnavailable, TimeoutError) as problem:
            reason = str(problem) or f"{endpoint} did not answer in {REFRESH_TIMEOUT:g}s"
            if not forced and not is_expired(current):
                log.warning("refresh of %s postponed: %s", name, reason)
                return current
            raise LoginFailed(
                f"could not refresh the {name} token: {reason}; retry later, or {hint}"
            ) from None
        record = tokens.to_record(previous=current)
        await self._service.store_record(name, record)
        log.info("refreshed the %s access token", name)
        return record

    async def _after_dead_grant(self, name: str, dead: Record, error: str) -> Record:
        """The server refused ``dead``'s refresh token (called under the lock): use a
        record stored since by someone who did not wait for the lock (an older nxuskitd),
        else remove ``dead``, only if it is still the stored one."""
        latest = await self._service.reload_record(name)
        if latest is not None and latest.refresh_token != dead.refresh_token:
            if latest.auth_method != protocol.OAUTH or not is_expired(latest):
                log.info("the %s token was replaced during its refresh; using the new one", name)
                return latest
            raise LoginFailed(f"the {name} token changed during its refresh: retry")
        message = f"the {name} login is no longer valid ({error}): {login_hint(name)}"
        if latest is not None:
            await self._service.remove_credential(name)
        self._service.login_ended(name, message)
        log.warning("the %s login ended at the server: %s", name, error)
        raise NotAuthenticated(message)
