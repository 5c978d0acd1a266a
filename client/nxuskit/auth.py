"""Resolving, inspecting, storing and removing credentials.

Precedence, highest first: the explicit value a caller passes, then the provider's
environment variable in the calling process, then the daemon's store. The first two
belong to the caller's process, so they are applied here, without a round trip; only
the store is asked of the daemon. Results say where a credential came from and never
show it in their repr.
"""

from __future__ import annotations

import os

from nxuskit import protocol
from nxuskit.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nxuskit.client import Client
    from nxuskit.registry import ProviderSpec
    from nxuskit.store import StoreInfo


class Resolution:
    """A resolved credential: ``secret`` and where it came from (``source``).

    ``source`` is "explicit", "env", "store" or "oauth" (None for a provider that needs
    no credential, whose ``secret`` is None too). ``auth_method`` is "api_key", "oauth"
    or "none"; ``expires_at`` is a Unix time for expiring tokens, else None.
    """

    __slots__ = ("auth_method", "expires_at", "provider", "secret", "source")

    def __init__(
        self,
        provider: str,
        secret: str | None,
        source: str | None,
        auth_method: str,
        expires_at: float | None = None,
    ) -> None:
        self.provider = provider
        self.secret = secret
        self.source = source
        self.auth_method = auth_method
        self.expires_at = expires_at

    def __repr__(self) -> str:
        shown = "None" if self.secret is None else "'***'"
        return (
            f"Resolution(provider={self.provider!r}, source={self.source!r}, "
            f"auth_method={self.auth_method!r}, secret={shown})"
        )

    __str__ = __repr__


class AuthStatus:
    """Whether a provider is usable, from which source, with which methods (no secret).

    ``status`` is "authenticated", "not_authenticated" or "not_required"; ``source`` is
    the source that would win a resolve now, or None.
    """

    __slots__ = (
        "auth_method",
        "auth_methods",
        "display_name",
        "expires_at",
        "provider",
        "source",
        "status",
    )

    def __init__(
        self,
        provider: str,
        status: str,
        source: str | None,
        auth_methods: list[str],
        auth_method: str | None = None,
        expires_at: float | None = None,
        display_name: str | None = None,
    ) -> None:
        self.provider = provider
        self.status = status
        self.source = source
        self.auth_methods = auth_methods
        self.auth_method = auth_method
        self.expires_at = expires_at
        self.display_name = display_name or provider

    @property
    def authenticated(self) -> bool:
        """True when a resolve would succeed (or no credential is needed)."""
        return self.status != protocol.NOT_AUTHENTICATED

    def to_dict(self) -> dict[str, Any]:
        """The status as plain data (the CLI's ``--json`` shape)."""
        return {
            "provider": self.provider,
            "status": self.status,
            "source": self.source,
            "auth_methods": list(self.auth_methods),
            "auth_method": self.auth_method,
            "expires_at": self.expires_at,
        }

    def __repr__(self) -> str:
        return (
            f"AuthStatus(provider={self.provider!r}, status={self.status!r}, "
            f"source={self.source!r}, auth_methods={self.auth_methods!r})"
        )


def from_env(spec: ProviderSpec) -> str | None:
    """The provider's credential from this process's environment, or None (unset or empty)."""
    if spec.env is None:
        return None
    value = os.environ.get(spec.env)
    return value if value else None


def status_from(spec: ProviderSpec, stored: dict[str, Any] | None) -> AuthStatus:
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
    if stored is not None and stored.get("status") == protocol.AUTHENTICATED:
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            stored.get("source"),
            methods,
            stored.get("auth_method"),
            stored.get("expires_at"),
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
    the daemon was not asked, because the explicit value or the environment decided)."""

    __slots__ = ("statuses", "store")

    def __init__(self, statuses: list[AuthStatus], store: StoreInfo | None) -> None:
        self.statuses = statuses
        self.store = store

    def __repr__(self) -> str:
        return f"StatusReport(statuses={self.statuses!r}, store={self.store!r})"


def auth_status_report(provider: str | None = None) -> StatusReport:
    """Like ``auth_status_all()`` (or ``auth_status(provider)``), plus which store the
    daemon uses and why, from the same single round trip.

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable, VersionMismatch, ConfigError.
    """
    return default_client().auth_status_report(provider)


def _check_secret(secret: object) -> str:
    if not isinstance(secret, str) or not secret.strip():
        raise InvalidArgument("the credential is empty: pass the API key itself")
    if len(secret.encode("utf-8", "replace")) > protocol.MAX_SECRET_BYTES:
        raise InvalidArgument(
            f"the credential is longer than {protocol.MAX_SECRET_BYTES} bytes: is it an API key?"
        )
    return secret


def auth_set_credential(provider: str, secret: str) -> None:
    """Store ``secret`` as the API key of ``provider`` in the daemon's store.

    Raises UnknownProvider, InvalidArgument (empty secret, provider without API keys),
    DaemonUnavailable, StoreUnavailable.
    """
    default_client().auth_set_credential(provider, secret)


def auth_remove_credential(provider: str) -> bool:
    """Remove the stored credential of ``provider``; True if one was stored.

    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable.
    """
    return default_client().auth_remove_credential(provider)


def default_client() -> Client:
    """The per-process Client (imported on first use: ``nxuskit.client`` imports this)."""
    from nxuskit.client import default_client as default

    return default()
