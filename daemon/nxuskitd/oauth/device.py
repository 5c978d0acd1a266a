"""The device authorization grant (RFC 8628): the answer that starts it, and the poll loop.

The loop waits ``interval`` seconds between polls and honours the server's answers:
``authorization_pending`` (poll on), ``slow_down`` (five seconds more between polls, for
good), ``access_denied`` and ``expired_token`` (the login fails and says why). A server
that cannot be reached, or answers with an HTTP error, is polled less and less often
until the code expires; what it answered last is reported (``on_problem``) and named
when the login ends, so a failing server does not pass for a user who never came.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import anyio

from nxuskit.errors import LoginFailed
from nxuskitd.oauth.http import EndpointUnavailable, TokenError, clean
from nxuskitd.oauth.tokens import TokenSet

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5.0
SLOW_DOWN_STEP = 5.0
MAX_INTERVAL = 60.0
DEFAULT_EXPIRES_IN = 600.0


@dataclasses.dataclass(frozen=True, repr=False)
class DeviceGrant:
    """A started device authorization; ``device_code`` stays in the daemon."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: float
    interval: float

    def __repr__(self) -> str:
        return f"DeviceGrant(expires_in={self.expires_in!r}, interval={self.interval!r})"

    @classmethod
    def from_response(cls, body: dict[str, Any]) -> DeviceGrant:
        """Check a device authorization answer; LoginFailed when it is unusable."""
        device_code, user_code = body.get("device_code"), body.get("user_code")
        uri = body.get("verification_uri") or body.get("verification_url")  # older servers
        if not (isinstance(device_code, str) and isinstance(user_code, str) and device_code):
            raise LoginFailed("the device authorization answer has no device_code or user_code")
        if not _web_url(uri):
            raise LoginFailed("the device authorization answer has no usable verification_uri")
        complete = body.get("verification_uri_complete")
        return cls(
            device_code=device_code,
            user_code=clean(user_code, 64),
            verification_uri=clean(uri, 2048),
            verification_uri_complete=clean(complete, 2048) if _web_url(complete) else None,
            expires_in=_seconds(body.get("expires_in"), DEFAULT_EXPIRES_IN, 1.0, 3600.0),
            interval=_seconds(body.get("interval"), DEFAULT_INTERVAL, 1.0, MAX_INTERVAL),
        )


def _web_url(value: object) -> bool:
    return (
        isinstance(value, str) and value.startswith(("https://", "http://")) and len(value) < 2048
    )


def _seconds(value: object, default: float, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return default
    return min(max(float(value), low), high)


async def poll(
    provider: str,
    grant: DeviceGrant,
    fetch: Callable[[], Awaitable[TokenSet]],
    sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
    clock: Callable[[], float] = time.monotonic,
    on_problem: Callable[[str], None] = lambda problem: None,
) -> TokenSet:
    """Poll ``fetch`` (one token request) until the user approves, denies, or the code
    expires. Raises LoginFailed with the reason."""
    interval = grant.interval
    deadline = clock() + grant.expires_in
    last_problem = ""
    while True:
        await sleep(interval)
        if clock() >= deadline:
            raise LoginFailed(
                f"the code for {provider} expired before the login was approved"
                + (f" (the last poll: {last_problem})" if last_problem else "")
            )
        try:
            return await fetch()
        except TokenError as error:
            if error.error == "authorization_pending":
                continue
            if error.error == "slow_down":
                interval = min(interval + SLOW_DOWN_STEP, MAX_INTERVAL)
                continue
            if error.error == "access_denied":
                raise LoginFailed(f"the login to {provider} was denied") from None
            if error.error == "expired_token":
                raise LoginFailed(
                    f"the code for {provider} expired before the login was approved"
                ) from None
            raise LoginFailed(f"{provider} refused the login: {error.explained}") from None
        except EndpointUnavailable as problem:
            last_problem = str(problem)
            on_problem(last_problem)
            log.warning("device login for %s: %s; polling slower", provider, last_problem)
            interval = min(interval * 2, MAX_INTERVAL)
