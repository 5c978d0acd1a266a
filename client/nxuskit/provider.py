"""``Provider.create``: a handle with a provider's resolved API key and base URL.

The base URL convention: ``base_url`` is the root an OpenAI-compatible client takes as its
``base_url``, ``/v1`` (or the provider's equivalent) included, for every provider that has
such an API: ``https://api.openai.com/v1``, ``http://localhost:11434/v1`` (Ollama),
``https://generativelanguage.googleapis.com/v1beta/openai`` (Gemini),
``https://api.cohere.com/compatibility/v1``. Anthropic is the exception: its base URL is
the root its own SDK takes (``https://api.anthropic.com``, as ``ANTHROPIC_BASE_URL``
spells it; the SDK adds ``/v1/messages``).

Where it comes from: the provider's ``host_env`` variable when set, which is the variable
its own SDK reads (``OPENAI_BASE_URL``, ``ANTHROPIC_BASE_URL``, ``GROQ_BASE_URL``,
``OLLAMA_HOST``, ``AZURE_OPENAI_ENDPOINT``, ...), else its ``default_host``; then the
provider's ``api_path`` is appended unless the value already ends with it. A value
without a scheme gets the default host's scheme (and its port when it names none, as
Ollama reads ``OLLAMA_HOST``); a bind-all address (``0.0.0.0``, ``::``) becomes
``localhost``, where a client can reach the server.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from nxuskit import registry
from nxuskit.auth import auth_resolve
from nxuskit.errors import InvalidArgument

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping

    from nxuskit.providers import ProviderSpec

BIND_ALL = frozenset(("", "0.0.0.0", "::"))  # noqa: S104 - addresses we translate, not bind


def server_url(value: str, default: str | None) -> str:
    """``value`` (a URL, ``host[:port]``, ``:port``) as a URL a client can connect to.

    Raises ValueError when it is neither.
    """
    value = value.strip()
    bare = "://" not in value
    fallback = urlsplit(default) if default else None
    if bare:
        if value.count(":") > 1 and not value.startswith("["):  # an IPv6 address alone
            value = f"[{value}]"
        value = f"{fallback.scheme if fallback else 'https'}://{value}"
    parts = urlsplit(value)
    port = parts.port
    if parts.scheme not in ("http", "https"):
        raise ValueError("not an http or https URL")
    if port is None and bare and fallback is not None:
        port = fallback.port
    host = parts.hostname or ""
    host = "localhost" if host in BIND_ALL else host
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    if parts.username is not None:
        netloc = parts.netloc.rpartition("@")[0] + "@" + netloc
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/"), parts.query, ""))


def server_root(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str | None:
    """The server ``spec`` talks to, without its ``api_path``: ``host_env``'s value when
    set, else ``default_host``; None when neither (Azure without its endpoint).

    Raises InvalidArgument when the variable holds no usable URL.
    """
    environ = os.environ if environ is None else environ
    value = environ.get(spec.host_env, "").strip() if spec.host_env else ""
    if value:
        try:
            root = server_url(value, spec.default_host)
        except ValueError:
            raise InvalidArgument(
                f"{spec.host_env} is not a URL or host[:port]: fix it, or unset it to use "
                f"{spec.default_host or 'the default'}"
            ) from None
    elif spec.default_host:
        root = spec.default_host.rstrip("/")
    else:
        return None
    if spec.api_path and root.endswith(spec.api_path):
        root = root[: -len(spec.api_path)]
    return root


def base_url(spec: ProviderSpec, environ: Mapping[str, str] | None = None) -> str | None:
    """The base URL of ``spec`` by the convention in this module's docstring."""
    root = server_root(spec, environ)
    return registry.join_path(root, spec.api_path) if root is not None else None


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
        """Resolve ``name``'s credential (explicit ``api_key``, env, store) and base URL.

        ``base_url`` is the OpenAI-compatible API root (``/v1`` included; Anthropic's is
        its SDK's root, without ``/v1``), from the variable the provider's SDK reads
        (``OPENAI_BASE_URL``, ``OLLAMA_HOST``, ...) or its default; None for Azure OpenAI
        until ``AZURE_OPENAI_ENDPOINT`` is set. See this module's docstring.
        Raises what ``auth_resolve`` raises, NotAuthenticated included, and
        InvalidArgument when the base-URL variable holds no URL.
        """
        spec = registry.load().get(name)
        url = base_url(spec)
        resolution = auth_resolve(spec.name, api_key)
        return cls(
            spec.name,
            spec.display_name,
            resolution.secret,
            url,
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
