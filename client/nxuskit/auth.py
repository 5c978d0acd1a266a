"""Resolving, inspecting, storing and removing credentials.

Precedence, highest first: the explicit value a caller passes, then the provider's
environment variable in the calling process, then the daemon's store. The first two
belong to the caller's process, so they are applied here, without a round trip; only
the store is asked of the daemon. Results say where a credential came from and never
show it in their repr.
"""

from __future__ import annotations

import os

from nxuskit import connection, protocol, registry
from nxuskit.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

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


def _from_env(spec: ProviderSpec) -> str | None:
    if spec.env is None:
        return None
    value = os.environ.get(spec.env)
    return value if value else None


def auth_resolve(provider: str, api_key: str | None = None) -> Resolution:
    """Resolve the credential for ``provider`` by precedence: explicit, env, store.

    Raises UnknownProvider, NotAuthenticated (nothing found anywhere), and, when the
    store must be asked, DaemonUnavailable, StoreUnavailable or VersionMismatch.
    """
    spec = registry.load().get(provider)
    if not spec.requires_auth:
        return Resolution(spec.name, None, None, protocol.NO_AUTH)
    if api_key:
        return Resolution(spec.name, api_key, protocol.SOURCE_EXPLICIT, protocol.API_KEY)
    env_value = _from_env(spec)
    if env_value is not None:
        return Resolution(spec.name, env_value, protocol.SOURCE_ENV, protocol.API_KEY)
    result = connection.call(protocol.RESOLVE, {"provider": spec.name})
    return Resolution(
        spec.name,
        result["secret"],
        result.get("source", protocol.SOURCE_STORE),
        result.get("auth_method", protocol.API_KEY),
        result.get("expires_at"),
    )


def _status_from(spec: ProviderSpec, stored: dict[str, Any] | None) -> AuthStatus:
    methods = list(spec.auth_methods)
    if not spec.requires_auth:
        return AuthStatus(
            spec.name, protocol.NOT_REQUIRED, None, methods, display_name=spec.display_name
        )
    if _from_env(spec) is not None:
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


def auth_status(provider: str, api_key: str | None = None) -> AuthStatus:
    """The authentication status of one provider, by the same precedence as resolve.

    Asks the daemon only when neither ``api_key`` nor the environment decides it.
    Raises UnknownProvider, DaemonUnavailable, StoreUnavailable, VersionMismatch.
    """
    spec = registry.load().get(provider)
    if spec.requires_auth and api_key:
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            protocol.SOURCE_EXPLICIT,
            list(spec.auth_methods),
            protocol.API_KEY,
            display_name=spec.display_name,
        )
    if not spec.requires_auth or _from_env(spec) is not None:
        return _status_from(spec, None)
    result = connection.call(protocol.STATUS, {"provider": spec.name})
    entries = {entry["provider"]: entry for entry in result["providers"]}
    return _status_from(spec, entries.get(spec.name))


def auth_status_all() -> list[AuthStatus]:
    """The status of every known provider, in registry order (one daemon round trip).

    Raises DaemonUnavailable, StoreUnavailable, VersionMismatch, ConfigError.
    """
    specs = registry.load().providers
    result = connection.call(protocol.STATUS, {})
    entries = {entry["provider"]: entry for entry in result["providers"]}
    return [_status_from(spec, entries.get(spec.name)) for spec in specs]


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
    from nxuskit.store import StoreInfo

    reg = registry.load()
    specs = reg.providers if provider is None else [reg.get(provider)]
    if provider is not None and (not specs[0].requires_auth or _from_env(specs[0]) is not None):
        return StatusReport([_status_from(specs[0], None)], None)
    params = {} if provider is None else {"provider": specs[0].name}
    result = connection.call(protocol.STATUS, params)
    entries = {entry["provider"]: entry for entry in result["providers"]}
    statuses = [_status_from(spec, entries.get(spec.name)) for spec in specs]
    orphans = result.get("orphans")  # absent from older daemons
    if not isinstance(orphans, list):
        orphans = []
    names = [name for name in orphans if isinstance(name, str)]
    return StatusReport(statuses, StoreInfo.from_wire(result.get("store")), names)


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
    spec = registry.load().get(provider)
    connection.call(
        protocol.SET_CREDENTIAL, {"provider": spec.name, "secret": _check_secret(secret)}
    )


def auth_remove_credential(provider: str) -> bool:
    """Remove the stored credential of ``provider``; True if one was stored.

    ``provider`` may also be the exact stored name of a provider that config.toml no
    longer defines (listed as an orphan by ``auth_status_report``).

    Raises UnknownProvider (neither known nor stored), DaemonUnavailable, StoreUnavailable.
    """
    reg = registry.load()
    spec = reg.find(provider) if isinstance(provider, str) else reg.get(provider)
    # An unknown name may be an orphan: only the daemon knows what is stored.
    name = provider if spec is None else spec.name
    result = connection.call(protocol.REMOVE_CREDENTIAL, {"provider": name})
    return bool(result.get("removed"))
