"""The sources a client applies itself, before the daemon is asked.

Precedence, highest first: the explicit value a caller passes, then the provider's
environment variable in the calling process, then the daemon (its personal store, then
the team store when config.toml has a ``[team]``). The first two belong to the caller's
process, so they are decided here, without a round trip; only the stores are asked of
the daemon (``Client``). ``Resolve`` is one ``auth_resolve`` with all of these rules and
the client cache's, for the blocking and the asyncio ``Client`` alike. ``StatusReport``
bundles statuses with the store that answered them.
"""

from __future__ import annotations

import os
import time

from nxuskit import protocol, registry, reuse
from nxuskit.answers import AuthStatus, Resolution

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from nxuskit.answers import StoreInfo, TeamInfo
    from nxuskit.providers import ProviderSpec


def from_env(spec: ProviderSpec) -> str | None:
    """The provider's credential from this process's environment, or None (unset or empty)."""
    if spec.env is None:
        return None
    value = os.environ.get(spec.env)
    return value if value else None


def resolve_locally(spec: ProviderSpec, api_key: str | None = None) -> Resolution | None:
    """The resolution when no daemon is needed (no credential needed, ``api_key`` given,
    or the environment has one); None when only the store can tell."""
    if not spec.requires_auth:
        return Resolution(spec.name, None, None, protocol.NO_AUTH)
    if api_key:
        return Resolution(spec.name, api_key, protocol.SOURCE_EXPLICIT, protocol.API_KEY)
    env_value = from_env(spec)
    if env_value is not None:
        return Resolution(spec.name, env_value, protocol.SOURCE_ENV, protocol.API_KEY)
    return None


class Resolve:
    """One ``auth_resolve`` after its cache lookup (``ReuseCache.get``, which the clients
    make first: it is the hot path), split around its only I/O so that the blocking and
    the asyncio ``Client`` share every rule. ``done`` is the answer when no daemon is
    needed (the explicit key, the environment, a provider that needs none); otherwise
    send ``params`` as ``auth.resolve`` and give its result to ``finish``. Either answer
    is offered to ``cache`` unless an explicit key decided it."""

    __slots__ = ("_api_key", "_cache", "_provider", "_reg", "_sent", "_spec", "done", "params")

    def __init__(self, cache: reuse.ReuseCache, provider: str, api_key: str | None) -> None:
        self._cache, self._provider, self._api_key = cache, provider, api_key
        self._reg = registry.load()
        self._spec = self._reg.get(provider)
        self._sent = time.monotonic()
        self.params: dict[str, Any] = {}
        local = resolve_locally(self._spec, api_key)
        self.done = None if local is None else self._kept(local)
        if local is None:
            self.params["provider"] = self._spec.name
            if not api_key and reuse.enabled():
                self.params["reuse"] = True  # the daemon grants it only to clients that ask

    def finish(self, result: object) -> Resolution:
        """The daemon's ``result`` to ``params``, decoded, and kept when it may be reused."""
        return self._kept(Resolution.from_wire(result, protocol.RESOLVE))

    def _kept(self, answer: Resolution) -> Resolution:
        if not self._api_key:
            self._cache.keep(self._provider, self._reg, self._spec, answer, self._sent)
        return answer


def status_locally(spec: ProviderSpec, api_key: str | None = None) -> AuthStatus | None:
    """The status when no daemon is needed (no credential needed, ``api_key`` given, or
    the environment has one); None when only the store can tell."""
    if spec.requires_auth and api_key:
        return AuthStatus(
            spec.name,
            protocol.AUTHENTICATED,
            protocol.SOURCE_EXPLICIT,
            list(spec.auth_methods),
            protocol.API_KEY,
            display_name=spec.display_name,
        )
    if not spec.requires_auth or from_env(spec) is not None:
        return status_from(spec, None)
    return None


def status_from(spec: ProviderSpec, stored: AuthStatus | None) -> AuthStatus:
    """The status of ``spec`` given the daemon's ``auth.status`` entry (None: not asked).
    The daemon's ``last_used`` is kept whichever source wins now."""
    methods = list(spec.auth_methods)
    used = stored.last_used if stored is not None else None
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
            last_used=used,
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
            last_used=used,
            team=stored.team,
        )
    return AuthStatus(
        spec.name,
        protocol.NOT_AUTHENTICATED,
        None,
        methods,
        display_name=spec.display_name,
        last_used=used,
    )


class StatusReport:
    """``statuses`` of providers, and the daemon's ``store`` (a ``StoreInfo``; None when
    the daemon was not asked, because the explicit value or the environment decided);
    ``team``, the team store as the daemon sees it (a ``TeamInfo``, or None).

    ``orphans`` names credentials still stored for providers that config.toml no longer
    defines; ``auth_remove_credential`` takes those exact names.
    """

    __slots__ = ("orphans", "statuses", "store", "team")

    def __init__(
        self,
        statuses: list[AuthStatus],
        store: StoreInfo | None,
        orphans: list[str] | None = None,
        team: TeamInfo | None = None,
    ) -> None:
        self.statuses = statuses
        self.store = store
        self.orphans = orphans or []
        self.team = team

    def __repr__(self) -> str:
        return f"StatusReport(statuses={self.statuses!r}, store={self.store!r})"
