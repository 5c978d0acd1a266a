"""OAuth logins, logout, and reporting a rejected token: the daemon does the OAuth work.

::

    start = auth_login_start("acme")            # or device=True for a device code
    print(start.authorization_url)              # the user opens it (or enters start.user_code)
    result = auth_login_wait(start.login_id)    # blocks until the daemon stored the tokens
    auth_logout("acme")                         # revoke at the server, delete the tokens

``auth_login`` does all three steps with a callback for the "open this" part, and cancels
the login in the daemon when it is interrupted (Ctrl-C). The daemon holds the PKCE
verifier, the loopback listener and the tokens; nothing secret passes through here.
"""

from __future__ import annotations

import time

from nxuskit import protocol, registry
from nxuskit.answers import LoggedOut, LoginResult, LoginStart, Reported
from nxuskit.auth import default_client

__all__ = [
    "LoginResult",
    "LoginStart",
    "auth_login",
    "auth_login_cancel",
    "auth_login_start",
    "auth_login_wait",
    "auth_logout",
    "auth_report_invalid",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from nxuskit.client import Client


def start(client: Client, provider: str, device: bool, timeout: float) -> LoginStart:
    """``Client.auth_login_start``."""
    spec = registry.load().get(provider)
    params: dict[str, Any] = {"provider": spec.name, "timeout": float(timeout)}
    if device:
        params["device"] = True
    return LoginStart.from_wire(client.call(protocol.LOGIN_START, params), protocol.LOGIN_START)


def wait(client: Client, login_id: str, timeout: float | None) -> LoginResult | None:
    """``Client.auth_login_wait``: on a connection of its own, so that the client's other
    calls (from other threads) are not held up."""
    deadline = None if timeout is None else time.monotonic() + timeout
    conn = client.open_connection()
    try:
        while True:
            step = protocol.LOGIN_WAIT_MAX
            if deadline is not None:
                step = min(step, max(deadline - time.monotonic(), 0.0))
            answer = conn.call(protocol.LOGIN_WAIT, {"login_id": login_id, "timeout": step})
            if not isinstance(answer, dict) or answer.get("status") != "pending":
                return LoginResult.from_wire(answer, protocol.LOGIN_WAIT)
            if deadline is not None and time.monotonic() >= deadline:
                return None
    finally:
        conn.close()


def run(
    client: Client,
    provider: str,
    on_start: Callable[[LoginStart], object] | None,
    device: bool,
    timeout: float,
) -> LoginResult:
    """``Client.auth_login``: start, show, wait; cancel in the daemon when interrupted."""
    begun = start(client, provider, device, timeout)
    try:
        if on_start is not None:
            on_start(begun)
        result = wait(client, begun.login_id, None)
    except BaseException:
        import contextlib

        with contextlib.suppress(Exception):  # the original error is the one to report
            client.auth_login_cancel(begun.login_id)
        raise
    assert result is not None
    return result


def report_invalid(client: Client, provider: str, secret: str | None) -> bool:
    """``Client.auth_report_invalid``."""
    spec = registry.load().get(provider)
    params: dict[str, Any] = {"provider": spec.name}
    if secret is not None:
        import hashlib

        params["token_sha256"] = hashlib.sha256(secret.encode("utf-8")).hexdigest()
    answer = client.call(protocol.REPORT_INVALID, params)
    return Reported.from_wire(answer, protocol.REPORT_INVALID).refreshed


def auth_login_start(
    provider: str, device: bool = False, timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT
) -> LoginStart:
    """Ask the daemon to start an OAuth login for ``provider`` (finished within ``timeout``
    seconds, else it fails). ``device=True`` uses the device-code flow.

    Raises UnknownProvider, InvalidArgument (no OAuth login for that provider, or no
    device flow), LoginFailed (the provider refused to start), DaemonUnavailable.
    """
    return start(default_client(), provider, device, timeout)


def auth_login_wait(login_id: str, timeout: float | None = None) -> LoginResult | None:
    """Wait for a started login to finish; its result, or None if ``timeout`` seconds
    passed first (None waits as long as the daemon lets the login run).

    Waits on a connection of its own, so other threads' calls are not held up.
    Raises LoginFailed (denied, timed out, cancelled, refused), InvalidArgument (unknown
    ``login_id``), DaemonUnavailable.
    """
    return wait(default_client(), login_id, timeout)


def auth_login_cancel(login_id: str) -> bool:
    """Cancel a login in the daemon; True when it was still running."""
    return default_client().auth_login_cancel(login_id)


def auth_login(
    provider: str,
    on_start: Callable[[LoginStart], object] | None = None,
    device: bool = False,
    timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT,
) -> LoginResult:
    """Log in to ``provider`` and wait until the daemon has stored the tokens.

    ``on_start`` receives the LoginStart (show its URL or code to the user). An
    interruption (KeyboardInterrupt) or error while waiting cancels the login in the
    daemon. Raises what auth_login_start and auth_login_wait raise.
    """
    return run(default_client(), provider, on_start, device, timeout)


def auth_logout(provider: str) -> LoggedOut:
    """Log out of ``provider``: the daemon revokes the tokens at the server (where the
    provider has a revocation_url) and deletes them. The answer has ``provider``,
    ``removed`` and ``revoked`` (None when the provider offers no revocation); it reads
    like the dict of earlier versions too (``answer["removed"]``).

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable.
    """
    return default_client().auth_logout(provider)


def auth_report_invalid(provider: str, secret: str | None = None) -> bool:
    """Tell the daemon the provider rejected its token; it refreshes once. Pass the
    ``secret`` you used, so a token already replaced is not refreshed again. True when
    a new token is ready (resolve again to get it).

    Raises NotAuthenticated (the login cannot be renewed: log in again), LoginFailed,
    UnknownProvider, DaemonUnavailable.
    """
    return report_invalid(default_client(), provider, secret)
