"""The OAuth side of the daemon: logins in progress, logout, and token refresh.

``OAuthManager.run`` owns a task group for the logins (each with its deadline and cancel
scope); it runs for the daemon's lifetime. Refresh needs no task of its own: it runs in
the request that found the token expiring (see ``refresh``), and is wired into
``CredentialService.resolve`` through ``service.refresh_hook``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import anyio
from anyio.abc import TaskGroup

from nxuskit import protocol
from nxuskit.errors import InvalidArgument, LoginFailed, NotAuthenticated, NxuskitError
from nxuskitd.oauth import http, pkce
from nxuskitd.oauth.callback import open_callback_listener
from nxuskitd.oauth.device import DeviceGrant
from nxuskitd.oauth.login import BrowserLogin, DeviceLogin, Login
from nxuskitd.oauth.refresh import Refresher
from nxuskitd.oauth.settings import login_hint, settings_for
from nxuskitd.service import CredentialService

log = logging.getLogger(__name__)

MAX_LOGINS = 16
KEEP_FINISHED = 120.0
"""How long a finished login's outcome stays available to ``auth.login_wait``."""
START_TIMEOUT = 30.0


class OAuthManager:
    """Logins, logout and refresh for one credential service."""

    def __init__(self, service: CredentialService) -> None:
        self.service = service
        self.refresher = Refresher(service)
        service.refresh_hook = self.refresher.fresh
        self._logins: dict[str, Login] = {}
        self._tasks: TaskGroup | None = None

    async def run(self) -> None:
        """Own the logins' tasks until cancelled (the daemon's lifetime)."""
        try:
            async with anyio.create_task_group() as tasks:
                self._tasks = tasks
                await anyio.sleep_forever()
        finally:
            self._tasks = None
            for login in list(self._logins.values()):
                login.fail(LoginFailed("nxuskitd stopped during the login; start it again"))

    def busy(self) -> bool:
        """Whether a login or a token refresh is under way (the daemon must not exit)."""
        return self.refresher.busy() or any(
            not login.done.is_set() for login in self._logins.values()
        )

    # -- logins ----------------------------------------------------------------------

    async def start(self, provider: str, device: bool, timeout: float | None) -> dict[str, Any]:
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
        for other in list(self._logins.values()):
            if other.provider == spec.name and not other.done.is_set():
                other.cancel(f"a newer login to {spec.name} replaced this one")
        if sum(not login.done.is_set() for login in self._logins.values()) >= MAX_LOGINS:
            raise LoginFailed(f"{MAX_LOGINS} logins are in progress: finish or cancel some")
        login: Login
        with anyio.fail_after(START_TIMEOUT):
            login = await (
                self._device(settings, limit) if device else self._browser(settings, limit)
            )
        self._logins[login.id] = login
        self._tasks.start_soon(self._run, login)
        log.info("login for %s started (%s flow)", spec.name, login.flow)
        return login.describe()

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
                    login.fail(
                        LoginFailed(
                            f"the login to {login.provider} timed out after {login.timeout:g}s"
                        )
                    )
                login.fail(LoginFailed(f"the login to {login.provider} ended without a result"))
        finally:
            with anyio.CancelScope(shield=True):
                await login.close()
        if login.error is not None:
            log.info("login for %s ended: %s", login.provider, login.error)
        await anyio.sleep(KEEP_FINISHED)
        self._logins.pop(login.id, None)

    def _login(self, login_id: str) -> Login:
        login = self._logins.get(login_id)
        if login is None:
            raise InvalidArgument(
                "no login with that login_id (finished long ago, or nxuskitd restarted): "
                "start the login again"
            )
        return login

    async def wait(self, login_id: str, timeout: float | None) -> dict[str, Any]:
        """``auth.login_wait``: the outcome, or ``status: pending`` after ``timeout``."""
        login = self._login(login_id)
        limit = protocol.LOGIN_WAIT_MAX if timeout is None else timeout
        with anyio.move_on_after(min(max(limit, 0.0), protocol.LOGIN_WAIT_MAX)):
            await login.done.wait()
        if not login.done.is_set():
            remaining = round(max(login.deadline - time.monotonic(), 0.0), 3)
            return {"login_id": login.id, "status": "pending", "expires_in": remaining}
        if login.error is not None:
            raise type(login.error)(login.error.message)
        assert login.result is not None
        return login.result

    def cancel(self, login_id: str) -> dict[str, Any]:
        """``auth.login_cancel``: stop a login (a finished one stays as it ended)."""
        login = self._login(login_id)
        pending = not login.done.is_set()
        login.cancel(f"the login to {login.provider} was cancelled")
        if pending:
            log.info("login for %s cancelled", login.provider)
        return {"login_id": login.id, "cancelled": pending}

    # -- logout and reports ------------------------------------------------------------

    async def logout(self, provider: str) -> dict[str, Any]:
        """``auth.logout``: revoke at the server where it can, then delete the record."""
        spec = self.service.provider(provider)
        for login in list(self._logins.values()):
            if login.provider == spec.name and not login.done.is_set():
                login.cancel(f"{spec.name} was logged out")
        record = await self.service.reload_record(spec.name)
        revoked: bool | None = None
        if record is not None and record.auth_method == protocol.OAUTH and spec.oauth:
            settings = settings_for(spec)
            if settings.revocation_url is not None:
                revoked = await self._revoke(settings, record)
        removed = (await self.service.remove_credential(spec.name))["removed"]
        return {"provider": spec.name, "removed": removed, "revoked": revoked}

    async def _revoke(self, settings: Any, record: Any) -> bool:
        tokens = [(record.refresh_token, "refresh_token"), (record.secret, "access_token")]
        revoked = True
        for token, hint in tokens:
            if not token:
                continue
            try:
                with anyio.fail_after(http.HTTP_TIMEOUT + 5):
                    await http.revoke(settings, token, hint)
            except (http.TokenError, http.EndpointUnavailable, TimeoutError) as problem:
                log.warning("revoking the %s %s failed: %s", settings.provider, hint, problem)
                revoked = False
        return revoked

    async def report_invalid(self, provider: str, token_sha256: str | None) -> dict[str, Any]:
        """``auth.report_invalid``: a client says the token was rejected; refresh once."""
        spec = self.service.provider(provider)
        record = await self.service.reload_record(spec.name)
        if record is None:
            raise NotAuthenticated(f"{spec.name} has no stored credential: {login_hint(spec.name)}")
        answer = {"provider": spec.name, "refreshed": False, "expires_at": record.expires_at}
        if record.auth_method != protocol.OAUTH:
            return answer  # an API key: nothing the daemon can renew
        if token_sha256 is not None and not pkce.same_secret(
            token_sha256.lower(), pkce.fingerprint(record.secret)
        ):
            return answer  # that token was replaced already: resolve again
        if not record.refresh_token:
            raise NotAuthenticated(
                f"the {spec.name} credential was rejected and cannot be refreshed: "
                f"{login_hint(spec.name)}"
            )
        fresh = await self.refresher.refresh(spec, record, forced=True)
        return {
            **answer,
            "refreshed": fresh.secret != record.secret,
            "expires_at": fresh.expires_at,
        }
