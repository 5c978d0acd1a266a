"""The provider registry: the built-in providers as data, plus those in config.toml.

A provider is a name, its aliases, the environment variable that carries its credential,
optionally a host variable and default host, and the auth methods it accepts. Nothing
in nxuskit branches on a provider's name; everything reads these records.

config.toml adds providers, or overrides fields of a built-in one::

    [providers.acme]
    display_name = "Acme AI"
    env = "ACME_API_KEY"
    host_env = "ACME_HOST"
    default_host = "https://api.acme.example/v1"
    auth_methods = ["api_key"]
"""

from __future__ import annotations

import os

from nxuskit import paths
from nxuskit.errors import ConfigError, UnknownProvider

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

AUTH_METHODS = ("api_key", "oauth")

OAUTH_DEFAULTS: dict[str, Any] = {
    "flow": "oauth2",
    "authorize_url": None,
    "token_url": None,
    "client_id": None,
    "scopes": [],
    "device_authorization_url": None,
    "revocation_url": None,
    "redirect_host": "127.0.0.1",
    "extra_authorize_params": {},
}
"""Every field of an ``oauth`` record, at its default (config.toml fills the rest)."""

OPENROUTER_OAUTH: dict[str, Any] = {
    **OAUTH_DEFAULTS,
    "flow": "openrouter",  # its documented PKCE flow: the code is exchanged for an API key
    "authorize_url": "https://openrouter.ai/auth",
    "token_url": "https://openrouter.ai/api/v1/auth/keys",
}
"""OpenRouter's login (config.toml may override its URLs in [providers.openrouter.oauth])."""
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")


class ProviderSpec:
    """One provider's registry record (no credential in it)."""

    __slots__ = (
        "aliases",
        "auth_methods",
        "default_host",
        "display_name",
        "env",
        "host_env",
        "name",
        "oauth",
    )

    def __init__(
        self,
        name: str,
        display_name: str,
        env: str | None,
        auth_methods: tuple[str, ...],
        aliases: tuple[str, ...] = (),
        host_env: str | None = None,
        default_host: str | None = None,
        oauth: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.display_name = display_name
        self.env = env
        self.auth_methods = auth_methods
        self.aliases = aliases
        self.host_env = host_env
        self.default_host = default_host
        self.oauth = oauth

    @property
    def requires_auth(self) -> bool:
        """Whether the provider needs a credential at all (local servers do not)."""
        return bool(self.auth_methods)

    def to_wire(self) -> dict[str, Any]:
        """The provider as ``provider.list`` describes it."""
        return {
            "name": self.name,
            "display_name": self.display_name,
            "aliases": list(self.aliases),
            "env": self.env,
            "host_env": self.host_env,
            "default_host": self.default_host,
            "auth_methods": list(self.auth_methods),
        }

    def __repr__(self) -> str:
        return f"ProviderSpec({self.name!r}, env={self.env!r}, auth_methods={self.auth_methods!r})"


BUILTIN: tuple[ProviderSpec, ...] = (
    ProviderSpec(
        "openai",
        "OpenAI",
        "OPENAI_API_KEY",
        ("api_key",),
        ("gpt",),
        default_host="https://api.openai.com/v1",
    ),
    ProviderSpec(
        "claude",
        "Anthropic Claude",
        "ANTHROPIC_API_KEY",
        ("api_key",),
        ("anthropic",),
        default_host="https://api.anthropic.com",
    ),
    ProviderSpec(
        "groq", "Groq", "GROQ_API_KEY", ("api_key",), default_host="https://api.groq.com/openai/v1"
    ),
    ProviderSpec(
        "mistral",
        "Mistral AI",
        "MISTRAL_API_KEY",
        ("api_key",),
        default_host="https://api.mistral.ai/v1",
    ),
    ProviderSpec(
        "fireworks",
        "Fireworks AI",
        "FIREWORKS_API_KEY",
        ("api_key",),
        default_host="https://api.fireworks.ai/inference/v1",
    ),
    ProviderSpec(
        "together",
        "Together AI",
        "TOGETHER_API_KEY",
        ("api_key",),
        default_host="https://api.together.xyz/v1",
    ),
    ProviderSpec(
        "openrouter",
        "OpenRouter",
        "OPENROUTER_API_KEY",
        ("api_key", "oauth"),
        default_host="https://openrouter.ai/api/v1",
        oauth=OPENROUTER_OAUTH,
    ),
    ProviderSpec(
        "perplexity",
        "Perplexity",
        "PERPLEXITY_API_KEY",
        ("api_key",),
        default_host="https://api.perplexity.ai",
    ),
    ProviderSpec(
        "ollama", "Ollama", None, (), host_env="OLLAMA_HOST", default_host="http://localhost:11434"
    ),
    ProviderSpec(
        "lm-studio",
        "LM Studio",
        None,
        (),
        ("lmstudio",),
        host_env="LMSTUDIO_HOST",
        default_host="http://localhost:1234",
    ),
)


def plain_name(name: object) -> bool:
    """True when ``name`` may be shown: short, of provider-name characters only. Anything
    else may be a key typed in the wrong place, and is never echoed."""
    return isinstance(name, str) and len(name) <= 24 and _NAME_CHARS.issuperset(name.lower())


def shown_name(name: object) -> str:
    """``name`` quoted when it looks like a provider name; never echo what may be a key."""
    return repr(name) if plain_name(name) else "(that name)"


class Registry:
    """Looks providers up by name or alias (case-insensitive)."""

    __slots__ = ("_by_name", "providers", "source")

    def __init__(self, providers: tuple[ProviderSpec, ...], source: str | None = None) -> None:
        self.providers = providers
        self.source = source
        self._by_name: dict[str, ProviderSpec] = {}
        for spec in providers:
            for key in (spec.name, *spec.aliases):
                self._by_name[key] = spec

    def find(self, name: str) -> ProviderSpec | None:
        """The provider called ``name`` (or aliased so), or None."""
        return self._by_name.get(name.strip().lower())

    def get(self, name: str) -> ProviderSpec:
        """The provider called ``name``; raises UnknownProvider with the known names."""
        spec = self.find(name) if isinstance(name, str) else None
        if spec is None:
            known = ", ".join(p.name for p in self.providers)
            raise UnknownProvider(
                f"unknown provider {shown_name(name)}: known providers are {known}; "
                f"add others in {self.source or paths.config_path()}"
            )
        return spec


_cache: tuple[str, tuple[int, int] | None, Registry] | None = None


def load(path: str | None = None) -> Registry:
    """The registry: built-ins plus config.toml (re-read when the file changes).

    Raises ConfigError naming the file and line when config.toml is malformed.
    """
    global _cache  # noqa: PLW0603 - one registry per process, refreshed on change
    path = path or paths.config_path()
    try:
        st = os.stat(path)
        stamp: tuple[int, int] | None = (st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        stamp = None
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    if _cache is not None and _cache[0] == path and _cache[1] == stamp:
        return _cache[2]
    if stamp is None:
        registry = Registry(BUILTIN, path)
    else:
        from nxuskit.config import parse_config

        registry = Registry(parse_config(path, BUILTIN), path)
    _cache = (path, stamp, registry)
    return registry
