"""A provider's OAuth settings as the daemon uses them (config.toml checked them already)."""

from __future__ import annotations

import dataclasses
from typing import Any

from nxuskit import protocol
from nxuskit.errors import InvalidArgument
from nxuskit.registry import ProviderSpec

OPENROUTER_FLOW = "openrouter"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclasses.dataclass(frozen=True)
class OAuthSettings:
    """Endpoints, client and scopes of one provider's login."""

    provider: str
    flow: str
    authorize_url: str
    token_url: str
    client_id: str | None
    scopes: tuple[str, ...] = ()
    device_authorization_url: str | None = None
    revocation_url: str | None = None
    redirect_host: str = "127.0.0.1"
    extra_authorize_params: tuple[tuple[str, str], ...] = ()

    @property
    def scope(self) -> str | None:
        """The scopes as the ``scope`` parameter spells them, or None."""
        return " ".join(self.scopes) or None

    @property
    def yields_api_key(self) -> bool:
        """True for flows whose result is a lasting API key (OpenRouter's), not tokens."""
        return self.flow == OPENROUTER_FLOW


def login_hint(provider: str) -> str:
    """The fix every "log in again" message ends with."""
    return f"run `nxuskit-cli provider login {provider}`"


def settings_for(spec: ProviderSpec) -> OAuthSettings:
    """The OAuth settings of ``spec``; InvalidArgument when it has no OAuth login."""
    oauth: dict[str, Any] | None = spec.oauth
    if protocol.OAUTH not in spec.auth_methods or not oauth:
        methods = ", ".join(spec.auth_methods) or "none"
        raise InvalidArgument(
            f"{spec.name} has no OAuth login (auth methods: {methods}); define one in "
            f"[providers.{spec.name}.oauth] of config.toml"
        )
    return OAuthSettings(
        provider=spec.name,
        flow=oauth.get("flow") or "oauth2",
        authorize_url=oauth["authorize_url"],
        token_url=oauth["token_url"],
        client_id=oauth.get("client_id"),
        scopes=tuple(oauth.get("scopes") or ()),
        device_authorization_url=oauth.get("device_authorization_url"),
        revocation_url=oauth.get("revocation_url"),
        redirect_host=oauth.get("redirect_host") or "127.0.0.1",
        extra_authorize_params=tuple(sorted((oauth.get("extra_authorize_params") or {}).items())),
    )
