"""The OAuth side of the daemon: logins in progress, logout, and token refresh.

``OAuthManager.run`` owns a task group for the logins (each with its deadline and cancel
scope); it runs for the daemon's lifetime. Refresh needs no task of its own: it runs in
the request that found the token expiring (see ``refresh``); ``lifecycle.wire`` hooks
``refresher.fresh`` into ``CredentialService.resolve`` (``service.refresh_hook``).

Logging in again ends the previous login first: once the new login is ready to be shown
(its URL or code exists), the stored tokens are revoked at the provider's
``revocation_url`` and deleted, before the user can approve anything. Revoking them
after the new login would be too late: servers that keep one grant per account and
client (oidc-provider within one browser session, Auth0, Google) revoke the whole grant,
which by then holds the new tokens too. Revocation is best effort: when the provider
does not confirm it, the old record stays until the new login replaces it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import anyio
from anyio.abc import TaskGroup

from nxuskit import protocol
from nxuskit.answers import (
    Cancelled,
    LoggedOut,
    LoginPending,
    LoginResult,
    Logins,
    LoginStart,
    Reported,
)
from nxuskit.errors import InvalidArgument, LoginFailed, NotAuthenticated, NxuskitError
from nxuskitd.credentials import CredentialService, missing_hint
from nxuskitd.oauth import http, pkce
from nxuskitd.oauth.callback import open_callback_listener
from nxuskitd.oauth.device import DeviceGrant
from nxuskitd.oauth.flows import BrowserLogin, DeviceLogin, Login
from nxuskitd.oauth.ledger import Ledger
from nxuskitd.oauth.lock import LockBusy, provider_lock
from nxuskitd.oauth.refresh import Refresher
from nxuskitd.oauth.settings import OAuthSettings, settings_for
from nxuskitd.stores import Record

log = logging.getLogger(__name__)

MAX_LOGINS = 16
START_TIMEOUT = 30.0
REVOKE_TIMEOUT = 8.0
"""How long one revocation request may take when a new login replaces an old one."""


class OAuthManager:
    """Logins, logout and refresh for one credential service."""

    def __init__(self, service: CredentialService) -> None:
        self.service = service
        self.refresher = Refresher(service)
        self.logins = Ledger()
        self.ended: Callable[[str, NxuskitError | None], None] | None = None
        """Told of each login's end (its provider, and its error or None): set by
        ``lifecycle.wire`` to record it in the audit trail."""
        self._tasks: TaskGroup | None = None

    async def run(self) -> None:
        """Own the logins' tasks until cancelled (the daemon's lifetime)."""
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                await anyio.sleep_forever()
        finally:
            self._tasks = None
            for login in self.logins.running():
                login.fail(LoginFailed("nxuskitd stopped during the login; start it again"))

    def busy(self) -> bool:
        """Whether a login or a token refresh is under way (the daemon must not exit)."""
        return self.refresher.busy() or self.logins.pending() > 0

    # -- logins ----------------------------------------------------------------------

    async def start(self, provider: str, device: bool, timeout: float | None) -> LoginStart:
        """``auth.login_start``: begin a login and say what the user must open."""
        if self._tasks is None:
            raise LoginFailed("this nxuskitd cannot run logins (its OAuth manager is not running)")
        spec = self.service.provider(provider)
        settings = settings_for(spec)
        limit = protocol.LOGIN_TIMEOUT_DEFAULT if timeout is None else timeout
        if not 0 < limit <= protocol.LOGIN_TIMEOUT_MAX:
            raise InvalidArgument(
                f"timeout: between 0 and {protocol.LOGIN_TIMEOUT_MAX:g} seconds, not {limit:g}"
            )
        older = self.logins.running_for(spec.name)
        if older is not None:
            older.cancel(f"a newer login to {spec.name} replaced this one")
        if self.logins.pending() >= MAX_LOGINS:
            raise LoginFailed(f"{MAX_LOGINS} logins are in progress: finish or cancel some")
        login: Login
        with anyio.fail_after(START_TIMEOUT):
            login = await (
                self._device(settings, limit) if device else self._browser(settings, limit)
            )
        try:
            revoked = await self._end_previous(settings)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await login.close()
            raise
        replaced = self.logins.add(login)
        if replaced is not None:  # a login_start that ran alongside this one
            replaced.cancel(f"a newer login to {spec.name} replaced this one")
        self._tasks.start_soon(self._run, login)
        log.info("login for %s started (%s flow)", spec.name, login.flow)
        return login.describe(revoked)

    async def _browser(self, settings: Any, timeout: float) -> Login:
        listener = await open_callback_listener(settings.redirect_host)
        login = BrowserLogin(settings, self.service, timeout, listener)
        try:
            await login.prepare()
        except BaseException:
            await listener.aclose()
            raise
        return login

    async def _device(self, settings: Any, timeout: float) -> Login:
        name = settings.provider
        if settings.device_authorization_url is None:
            raise InvalidArgument(
                f"{name} offers no device login (no device_authorization_url in "
                f"[providers.{name}.oauth]); log in with --no-browser and open the URL instead"
            )
        try:
            grant = DeviceGrant.from_response(await http.device_authorize(settings))
        except http.TokenError as error:
            raise LoginFailed(
                f"{name} refused to start a device login: {error.explained}"
            ) from None
        except http.EndpointUnavailable as problem:
            raise LoginFailed(f"could not start a device login for {name}: {problem}") from None
        return DeviceLogin(settings, self.service, timeout, grant)

    async def _run(self, login: Login) -> None:
        try:
            with login.scope:
                with anyio.move_on_after(max(login.deadline - time.monotonic(), 0.0)) as timer:
                    try:
                        await login.run()
                    except NxuskitError as error:
                        login.fail(error)
                    except Exception:
                        log.exception("login for %s failed", login.provider)
                        login.fail(LoginFailed("the login failed inside nxuskitd; see its log"))
                if timer.cancelled_caught:
                    with anyio.CancelScope(shield=True):
                        await login.close()  # closed before anyone hears of the timeout
                    last = f" (the last poll: {login.problem})" if login.problem else ""
                    login.fail(
                        LoginFailed(
                            f"the login to {login.provider} timed out after "
                            f"{login.timeout:g}s{last}"
                        )
                    )
                login.fail(LoginFailed(f"the login to {login.provider} ended without a result"))
        finally:
            with anyio.CancelScope(shield=True):
                await login.close()
        if login.error is not None:
            log.info("login for %s ended: %s", login.provider, login.error)
        if self.ended is not None:
            self.ended(login.provider, login.error)
        self.logins.finish(login)

    def _login(self, login_id: str) -> Login:
        login = self.logins.get(login_id)
        if login is None:
            raise InvalidArgument(
                "no login with that login_id (finished long ago, or nxuskitd restarted): "
                "start the login again"
            )
        return login

    async def wait(self, login_id: str, timeout: float | None) -> LoginPending | LoginResult:
        """``auth.login_wait``: the outcome, or ``status: pending`` after ``timeout``."""
        login = self._login(login_id)
        limit = protocol.LOGIN_WAIT_MAX if timeout is None else timeout
        with anyio.move_on_after(min(max(limit, 0.0), protocol.LOGIN_WAIT_MAX)):
            await login.done.wait()
        if not login.done.is_set():
            remaining = round(max(login.deadline - time.monotonic(), 0.0), 3)
            return LoginPending(login.id, "pending", remaining)
        if login.error is not None:
            raise type(login.error)(login.error.message)
        if login.result is None:  # done without an outcome cannot happen: finish/fail set one
            raise LoginFailed(f"the login to {login.provider} ended without a result")
        return login.result

    def counts(self) -> Logins:
        """Logins running and finished outcomes kept, for ``daemon.status``."""
        return self.logins.counts()

    def cancel(self, login_id: str) -> Cancelled:
        """``auth.login_cancel``: stop a login (a finished one stays as it ended)."""
        login = self._login(login_id)
        pending = not login.done.is_set()
        login.cancel(f"the login to {login.provider} was cancelled")
        if pending:
            log.info("login for %s cancelled", login.provider)
        return Cancelled(login.id, pending)

    # -- logout and reports ------------------------------------------------------------

    async def logout(self, provider: str) -> LoggedOut:
        """``auth.logout``: revoke at the server where it can, then delete the record."""
        spec = self.service.provider(provider)
        running = self.logins.running_for(spec.name)
        if running is not None:
            running.cancel(f"{spec.name} was logged out")
        settings = settings_for(spec) if spec.oauth else None
        async with provider_lock(self.service.data_dir, spec.name):
            record = await self.service.reload_record(spec.name)
            revoked: bool | None = None
            if record is not None and record.auth_method == protocol.OAUTH:
                revoked = await self._revoke(settings, record, http.HTTP_TIMEOUT + 5)
            removed = (await self.service.remove_credential(spec.name)).removed
        return LoggedOut(spec.name, removed, revoked)

    async def _end_previous(self, settings: OAuthSettings) -> bool | None:
        """Revoke and delete the login a new one is about to replace (see the module's
        docstring for why before); None when there was nothing to revoke."""
        name = settings.provider
        if settings.revocation_url is None:
            return None
        try:
            async with provider_lock(self.service.data_dir, name, timeout=REVOKE_TIMEOUT):
                record = await self.service.reload_record(name)
                if record is None or record.auth_method != protocol.OAUTH:
                    return None
                revoked = await self._revoke(settings, record, REVOKE_TIMEOUT)
                if revoked:
                    await self.service.remove_credential(name)
        except LockBusy as busy:
            log.warning("the previous %s login was not revoked: %s", name, busy)
            return False
        if revoked:
            log.info("revoked the previous %s login before starting a new one", name)
        else:
            log.warning("the previous %s login could not be revoked; it stays stored", name)
        return revoked

    async def _revoke(
        self, settings: OAuthSettings | None, record: Record, limit: float
    ) -> bool | None:
        """Revoke ``record``'s tokens, each within ``limit`` seconds: True when the
        provider confirmed all, None when it has no revocation_url."""
        if settings is None or settings.revocation_url is None:
            return None
        tokens = [(record.refresh_token, "refresh_token"), (record.secret, "access_token")]
        revoked = True
        for token, hint in tokens:
            if not token:
                continue
            try:
                with anyio.fail_after(limit):
                    await http.revoke(settings, token, hint)
            except (http.TokenError, http.EndpointUnavailable, TimeoutError) as problem:
                reason = str(problem) or f"no answer in {limit:g}s"
                log.warning("revoking the %s %s failed: %s", settings.provider, hint, reason)
                revoked = False
        return revoked

    async def report_invalid(self, provider: str, token_sha256: str | None) -> Reported:
        """``auth.report_invalid``: a client says the token was rejected; refresh once."""
        spec = self.service.provider(provider)
        record = await self.service.reload_record(spec.name)
        if record is None:
            raise NotAuthenticated(f"{spec.name} has no stored credential: {missing_hint(spec)}")
        answer = Reported(spec.name, refreshed=False, expires_at=record.expires_at)
        if record.auth_method != protocol.OAUTH:
            return answer  # an API key: nothing the daemon can renew
        if token_sha256 is not None and not pkce.same_secret(
            token_sha256.lower(), pkce.fingerprint(record.secret)
        ):
            return answer  # that token was replaced already: resolve again
        if not record.refresh_token:
            raise NotAuthenticated(
                f"the {spec.name} credential was rejected and cannot be refreshed: "
                f"{missing_hint(spec)}"
            )
        fresh = await self.refresher.refresh(spec, record, forced=True)
        return Reported(spec.name, fresh.secret != record.secret, fresh.expires_at)
