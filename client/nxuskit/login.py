"""OAuth logins, logout, and reporting a rejected token: the daemon does the OAuth work.

::

    start = auth_login_start("acme")            # or device=True for a device code
    print(start.authorization_url)              # the user opens it (or enters start.user_code)
    result = auth_login_wait(start.login_id)    # blocks until the daemon stored the tokens
    auth_logout("acme")                         # revoke at the server, delete the tokens

``auth_login`` does all three steps with a callback for the "open this" part, and cancels
the login in the daemon when it is interrupted (Ctrl-C). The daemon holds the PKCE
verifier, the loopback listener and the tokens; nothing secret passes through here.
These are module functions over the default ``Client``, whose methods do the work.
"""

from __future__ import annotations

from nxuskit import protocol
from nxuskit.answers import LoggedOut, LoginResult, LoginStart
from nxuskit.client import default_client

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


def auth_login_start(
    provider: str, device: bool = False, timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT
) -> LoginStart:
    """Ask the daemon to start an OAuth login for ``provider`` (finished within ``timeout``
    seconds, else it fails). ``device=True`` uses the device-code flow.

    Raises UnknownProvider, InvalidArgument (no OAuth login for that provider, or no
    device flow), LoginFailed (the provider refused to start), DaemonUnavailable.
    """
    return default_client().auth_login_start(provider, device, timeout)


def auth_login_wait(login_id: str, timeout: float | None = None) -> LoginResult | None:
    """Wait for a started login to finish; its result, or None if ``timeout`` seconds
    passed first (None waits as long as the daemon lets the login run).

    Waits on a connection of its own, so other threads' calls are not held up.
    Raises LoginFailed (denied, timed out, cancelled, refused), InvalidArgument (unknown
    ``login_id``), DaemonUnavailable.
    """
    return default_client().auth_login_wait(login_id, timeout)


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
    return default_client().auth_login(provider, on_start, device, timeout)


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
    return default_client().auth_report_invalid(provider, secret)
