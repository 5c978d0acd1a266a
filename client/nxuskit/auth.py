"""Resolving, inspecting, storing and removing credentials: module functions over the
default ``Client`` (``nxuskit.client.default_client``).

Precedence, highest first: the explicit value a caller passes, then the provider's
environment variable in the calling process, then the daemon's store
(``nxuskit.precedence``). Results say where a credential came from and never show it in
their repr. ``Resolution`` and ``AuthStatus`` are the wire's own shapes
(``nxuskit.answers``).
"""

from __future__ import annotations

from nxuskit.answers import AuthStatus, Resolution, Stored
from nxuskit.client import default_client
from nxuskit.precedence import StatusReport

__all__ = [
    "AuthStatus",
    "Resolution",
    "StatusReport",
    "Stored",
    "auth_remove_credential",
    "auth_resolve",
    "auth_set_credential",
    "auth_status",
    "auth_status_all",
    "auth_status_report",
]


def auth_resolve(provider: str, api_key: str | None = None) -> Resolution:
    """Resolve the credential for ``provider`` by precedence: explicit, env, store.

    Raises UnknownProvider, NotAuthenticated (nothing found anywhere), and, when the
    store must be asked, DaemonUnavailable, StoreUnavailable, PermissionDenied or
    VersionMismatch.
    """
    return default_client().auth_resolve(provider, api_key)


def auth_status(provider: str, api_key: str | None = None) -> AuthStatus:
    """The authentication status of one provider, by the same precedence as resolve.

    Asks the daemon only when neither ``api_key`` nor the environment decides it.
    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable, VersionMismatch.
    """
    return default_client().auth_status(provider, api_key)


def auth_status_all() -> list[AuthStatus]:
    """The status of every known provider, in registry order (one daemon round trip).

    Raises DaemonUnavailable, StoreUnavailable, VersionMismatch, ConfigError.
    """
    return default_client().auth_status_all()


def auth_status_report(provider: str | None = None) -> StatusReport:
    """Like ``auth_status_all()`` (or ``auth_status(provider)``), plus which store the
    daemon uses and why, from the same single round trip.

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable, VersionMismatch, ConfigError.
    """
    return default_client().auth_status_report(provider)


def auth_set_credential(provider: str, secret: str) -> Stored:
    """Store ``secret`` as the API key of ``provider`` in the daemon's store; the answer
    (``Stored``) says whether it replaced a stored credential.

    Surrounding spaces, tabs and line breaks are trimmed (``nxuskit.credential``).
    Raises UnknownProvider, InvalidArgument (empty, too long, a control character inside,
    provider without API keys), DaemonUnavailable, StoreUnavailable.
    """
    return default_client().auth_set_credential(provider, secret)


def auth_remove_credential(provider: str) -> bool:
    """Remove the stored credential of ``provider``; True if one was stored.

    ``provider`` may also be the exact stored name of a provider that config.toml no
    longer defines (listed as an orphan by ``auth_status_report``).

    Raises UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
    """
    return default_client().auth_remove_credential(provider)
