"""``Provider.create``: a handle with a provider's resolved API key and base URL."""

from __future__ import annotations

import os

from nxuskit import registry
from nxuskit.auth import auth_resolve


class Provider:
    """A provider ready to use: ``name``, ``api_key`` (None for local providers) and
    ``base_url``. Build one with ``Provider.create``; its repr never shows the key.
    """

    __slots__ = ("api_key", "auth_method", "base_url", "display_name", "name", "source")

    def __init__(
        self,
        name: str,
        display_name: str,
        api_key: str | None,
        base_url: str | None,
        source: str | None,
        auth_method: str,
    ) -> None:
        self.name = name
        self.display_name = display_name
        self.api_key = api_key
        self.base_url = base_url
        self.source = source
        self.auth_method = auth_method

    @classmethod
    def create(cls, name: str, api_key: str | None = None) -> Provider:
        """Resolve ``name``'s credential (explicit ``api_key``, env, store) and host.

        ``base_url`` is the provider's host variable when set (``OLLAMA_HOST``), else its
        default host. Raises what ``auth_resolve`` raises, NotAuthenticated included.
        """
        spec = registry.load().get(name)
        resolution = auth_resolve(spec.name, api_key)
        host = os.environ.get(spec.host_env) if spec.host_env else None
        return cls(
            spec.name,
            spec.display_name,
            resolution.secret,
            host or spec.default_host,
            resolution.source,
            resolution.auth_method,
        )

    def __repr__(self) -> str:
        key = "None" if self.api_key is None else "'***'"
        return (
            f"Provider(name={self.name!r}, base_url={self.base_url!r}, "
            f"source={self.source!r}, api_key={key})"
        )

    __str__ = __repr__
