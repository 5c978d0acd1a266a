"""One login in progress: through the browser (loopback redirect) or a device code.

A login holds what must stay in the daemon (the PKCE verifier, the state, the device
code) and ends exactly once: ``finish`` with the answer for ``auth.login_wait``, or
``fail`` with the error. ``run`` does the waiting; the manager runs it in its task group
under the login's deadline and cancel scope.
"""

from __future__ import annotations

import logging
import secrets
import time
from http import HTTPStatus

import anyio

from nxuskit import protocol
from nxuskit.answers import LoginResult, LoginStart
from nxuskit.errors import LoginFailed, NxuskitError
from nxuskitd.credentials import CredentialService
from nxuskitd.oauth import device, http, pkce
from nxuskitd.oauth.callback import REFUSAL_LOG_INTERVAL, CallbackListener
from nxuskitd.oauth.lock import provider_lock
from nxuskitd.oauth.settings import OAuthSettings
from nxuskitd.oauth.tokens import TokenSet, api_key_record
from nxuskitd.ratelimit import RateLimitedLog
from nxuskitd.stores import Record

log = logging.getLogger(__name__)

EXCHANGE_TIMEOUT = 30.0


class Login:
    """What every login has: an id, a deadline, one outcome."""

    flow = "login"

    def __init__(self, settings: OAuthSettings, service: CredentialService, timeout: float) -> None:
        self.id = secrets.token_urlsafe(16)
        self.settings = settings
        self.provider = settings.provider
        self.service = service
        self.timeout = timeout
        self.deadline = time.monotonic() + timeout
        self.scope = anyio.CancelScope()
        self.done = anyio.Event()
        self.result: LoginResult | None = None
        self.error: NxuskitError | None = None
        self.problem: str | None = None
        """What the server last answered when it failed (named if the login times out)."""

    def describe(self, revoked: bool | None = None) -> LoginStart:
        """The ``auth.login_start`` answer (``revoked``: what became of the login this
        one replaces)."""
        return LoginStart(
            self.id,
            self.provider,
            self.flow,
            round(max(self.deadline - time.monotonic(), 0.0), 3),
            revoked=revoked,
        )

    def finish(self, result: LoginResult) -> None:
        """End the login successfully (the first outcome wins)."""
        if not self.done.is_set():
            self.result = result
            self.done.set()

    def fail(self, error: NxuskitError) -> None:
        """End the login with ``error`` (the first outcome wins)."""
        if not self.done.is_set():
            self.error = error
            self.done.set()

    def cancel(self, reason: str) -> None:
        """Stop the login now; waiters get LoginFailed(``reason``)."""
        self.fail(LoginFailed(reason))
        self.scope.cancel()

    async def save(self, record: Record) -> None:
        """Store the login's record (under the provider's lock, which refreshes in other
        daemons respect), then end the login with its summary."""
        async with provider_lock(self.service.data_dir, self.provider):
            await self.service.store_record(self.provider, record)
        log.info("login for %s finished (%s flow); stored", self.provider, self.flow)
        self.finish(
            LoginResult(
                self.id,
                "done",
                self.provider,
                protocol.OAUTH,
                expires_at=record.expires_at,
                scope=record.scope,
                store=self.service.store.kind,
            )
        )

    async def run(self) -> None:
        """Wait for the user and store the result; ends with ``finish`` or ``fail``."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release what the login holds (sockets)."""


class BrowserLogin(Login):
    """Authorization code + PKCE with a loopback redirect (RFC 8252)."""

    flow = "browser"

    def __init__(
        self,
        settings: OAuthSettings,
        service: CredentialService,
        timeout: float,
        listener: CallbackListener,
    ) -> None:
        super().__init__(settings, service, timeout)
        self.listener = listener
        self.verifier = pkce.new_verifier()
        # OpenRouter's documented flow has no state; PKCE alone binds its code to us.
        self.state = None if settings.yields_api_key else pkce.new_state()
        self.authorization_url = ""
        self._consumed = False
        self._refusals = RateLimitedLog(log, REFUSAL_LOG_INTERVAL)

    async def prepare(self) -> None:
        """Build the authorization URL (needs the listener's port)."""
        self.authorization_url = await http.authorization_url(
            self.settings, self.listener.redirect_uri, self.state, self.verifier
        )

    def describe(self, revoked: bool | None = None) -> LoginStart:
        """The answer to ``auth.login_start``: the URL to open, and where it returns."""
        start = super().describe(revoked)
        start.authorization_url = self.authorization_url
        start.redirect_uri = self.listener.redirect_uri
        return start

    async def run(self) -> None:
        """Serve the callback until one request ends the login."""
        finished = anyio.Event()
        await self.listener.serve(self.on_callback, finished)

    async def close(self) -> None:
        """Stop listening."""
        self._refusals.flush(final=True)
        await self.listener.aclose()

    async def on_callback(self, params: dict[str, str]) -> tuple[int, str, str, bool]:
        """Judge one ``/callback`` request: (status, title, text, whether it ended the login)."""
        again = f"Start again with: nxuskit-cli provider login {self.provider}"
        if self._consumed or self.done.is_set():
            return HTTPStatus.BAD_REQUEST, "Login already finished", again, False
        if self.state is not None and not pkce.same_secret(params.get("state"), self.state):
            self._refusals.warning(
                "state", f"login for {self.provider}: refused a callback whose state did not match"
            )
            text = "This response does not belong to the login in progress (state mismatch)."
            return HTTPStatus.BAD_REQUEST, "Login not accepted", f"{text} {again}", False
        self._consumed = True  # the state is single-use, whatever follows
        if "error" in params:
            error = http.clean(params["error"], 64) or "error"
            detail = http.clean(params.get("error_description"))
            verdict = "was denied" if error == "access_denied" else f"failed ({error})"
            message = f"the login to {self.provider} {verdict}" + (f": {detail}" if detail else "")
            self.fail(LoginFailed(message))
            return (
                HTTPStatus.FORBIDDEN,
                "Login failed",
                f"{message[:1].upper()}{message[1:]}.",
                True,
            )
        code = params.get("code")
        if not code:
            self.fail(LoginFailed(f"{self.provider} redirected back without a code"))
            return HTTPStatus.BAD_REQUEST, "Login failed", "No authorization code came back.", True
        try:
            with anyio.fail_after(EXCHANGE_TIMEOUT):
                await self.save(await self._exchange(code))
        except TimeoutError:
            self.fail(LoginFailed(f"{self.provider}'s token endpoint did not answer in time"))
        except http.TokenError as error:
            self.fail(LoginFailed(f"{self.provider} refused the code: {error.explained}"))
        except http.EndpointUnavailable as problem:
            self.fail(LoginFailed(f"could not finish the login to {self.provider}: {problem}"))
        except NxuskitError as error:
            self.fail(error)
        if self.error is not None:
            return HTTPStatus.BAD_GATEWAY, "Login failed", f"{self.error} {again}", True
        name = self.provider
        return HTTPStatus.OK, f"Logged in to {name}", "You can close this tab.", True

    async def _exchange(self, code: str) -> Record:
        if self.settings.yields_api_key:
            return api_key_record(await http.openrouter_key(self.settings, code, self.verifier))
        tokens = await http.exchange_code(
            self.settings, code, self.verifier, self.listener.redirect_uri
        )
        return tokens.to_record()


class DeviceLogin(Login):
    """The device authorization grant (RFC 8628): the user approves on another device."""

    flow = "device"

    def __init__(
        self,
        settings: OAuthSettings,
        service: CredentialService,
        timeout: float,
        grant: device.DeviceGrant,
    ) -> None:
        super().__init__(settings, service, min(timeout, grant.expires_in))
        self.grant = grant

    def describe(self, revoked: bool | None = None) -> LoginStart:
        """The answer to ``auth.login_start``: the code, and where to enter it."""
        start = super().describe(revoked)
        start.user_code = self.grant.user_code
        start.verification_uri = self.grant.verification_uri
        start.verification_uri_complete = self.grant.verification_uri_complete
        start.interval = self.grant.interval
        return start

    async def run(self) -> None:
        """Poll until the user approves or denies, then store the tokens."""

        async def fetch() -> TokenSet:
            return await http.device_token(self.settings, self.grant.device_code)

        def note(problem: str) -> None:
            self.problem = problem

        tokens = await device.poll(self.provider, self.grant, fetch, on_problem=note)
        await self.save(tokens.to_record())
