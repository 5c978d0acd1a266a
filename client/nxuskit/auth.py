"""Resolving, inspecting, storing and removing credentials.

Precedence, highest first: the explicit value a caller passes, then the provider's
environment variable in the calling process, then the daemon's store. The first two
belong to the caller's process, so they are applied here, without a round trip; only
the store is asked of the daemon. Results say where a credential came from and never
show it in their repr. ``Resolution`` and ``AuthStatus`` are the wire's own shapes
(``nxuskit.answers``).
"""

from __future__ import annotations

import os

from nxuskit import protocol
from nxuskit.answers import AuthStatus, Resolution

__all__ = [
    "AuthStatus",
    "Resolution",
    "StatusReport",
    "auth_remove_credential",
    "auth_resolve",
    "auth_set_credential",
    "auth_status",
    "auth_status_all",
    "auth_status_report",
]

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nxuskit.answers import StoreInfo
    from nxuskit.client import Client
    from nxuskit.registry import ProviderSpec


def from_env(spec: ProviderSpec) -> str | None:
    """The provider's credential from this process's environment, or None (unset or empty)."""
    if spec.env is None:
        return None
    value = os.environ.get(spec.env)
    return value if value else None


def status_from(spec: ProviderSpec, stored: AuthStatus | None) -> AuthStatus:
    """The status of ``spec`` given the daemon's ``auth.status`` entry (None: not asked)."""
    methods = list(spec.auth_methods)
    if not spec.requires_auth:
        return AuthStatus(
            spec.name, protocol.NOT_REQUIRED, None, methods, display_name=spec.display_name
        )
    if from_env(spec) is not None:
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            protocol.SOURCE_ENV,
            methods,
            protocol.API_KEY,
            display_name=spec.display_name,
        )
    if stored is not None and stored.status == protocol.AUTHENTICATED:
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            stored.source,
            methods,
            stored.auth_method,
            stored.expires_at,
            spec.display_name,
        )
    return AuthStatus(
        spec.name, protocol.NOT_AUTHENTICATED, None, methods, display_name=spec.display_name
    )


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


class StatusReport:
    """``statuses`` of providers, and the daemon's ``store`` (a ``StoreInfo``; None when
    the daemon was not asked, because the explicit value or the environment decided).

    ``orphans`` names credentials still stored for providers that config.toml no longer
    defines; ``auth_remove_credential`` takes those exact names.
    """

    __slots__ = ("orphans", "statuses", "store")

    def __init__(
        self,
        statuses: list[AuthStatus],
        store: StoreInfo | None,
        orphans: list[str] | None = None,
    ) -> None:
        self.statuses = statuses
        self.store = store
        self.orphans = orphans or []

    def __repr__(self) -> str:
        return f"StatusReport(statuses={self.statuses!r}, store={self.store!r})"


def auth_status_report(provider: str | None = None) -> StatusReport:
    """Like ``auth_status_all()`` (or ``auth_status(provider)``), plus which store the
    daemon uses and why, from the same single round trip.

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable, VersionMismatch, ConfigError.
    """
    return default_client().auth_status_report(provider)


def _check_secret(secret: object) -> str:
    # The daemon applies the same rule; checking here too keeps a bad key off the socket
    # and gives the error without a round trip.
    from nxuskit.credential import check_secret

    return check_secret(secret)


def auth_set_credential(provider: str, secret: str) -> None:
    """Store ``secret`` as the API key of ``provider`` in the daemon's store.

    Surrounding spaces, tabs and line breaks are trimmed (``nxuskit.credential``).
    Raises UnknownProvider, InvalidArgument (empty, too long, a control character inside,
    provider without API keys), DaemonUnavailable, StoreUnavailable.
    """
    default_client().auth_set_credential(provider, secret)


def auth_remove_credential(provider: str) -> bool:
    """Remove the stored credential of ``provider``; True if one was stored.

    ``provider`` may also be the exact stored name of a provider that config.toml no
    longer defines (listed as an orphan by ``auth_status_report``).

    Raises UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
    """
    return default_client().auth_remove_credential(provider)


def default_client() -> Client:
    """The per-process Client (imported on first use: ``nxuskit.client`` imports this)."""
    from nxuskit.client import default_client as default

    return default()
