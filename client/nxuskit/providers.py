"""The built-in providers as data, and the record every provider is (``ProviderSpec``).

A provider is a name, its aliases, the environment variable that carries its credential,
the variable that points its SDK at another server (``host_env``) and the default server
(``default_host``), the path from that server to its OpenAI-compatible API root
(``api_path``), how a credential is checked (``verify_path``, ``key_header``,
``verify_headers``) and the auth methods it accepts. Nothing in nxuskit branches on a
provider's name; everything reads these records. ``nxuskit.registry`` adds config.toml.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

AUTH_METHODS = ("api_key", "oauth")
BEARER = "authorization"
"""``key_header`` value meaning ``Authorization: Bearer KEY``; any other names the header."""

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
    "allow_insecure_http": False,
}
"""Every field of an ``oauth`` record, at its default (config.toml fills the rest)."""

OPENROUTER_OAUTH: dict[str, Any] = {
    **OAUTH_DEFAULTS,
    "flow": "openrouter",  # its documented PKCE flow: the code is exchanged for an API key
    "authorize_url": "https://openrouter.ai/auth",
    "token_url": "https://openrouter.ai/api/v1/auth/keys",
}
"""OpenRouter's login (config.toml may override its URLs in [providers.openrouter.oauth])."""


def join_path(root: str, path: str) -> str:
    """``root`` (no trailing slash) with ``path`` appended, unless it already ends so."""
    root = root.rstrip("/")
    return root if not path or root.endswith(path) else root + path


class ProviderSpec:
    """One provider's registry record (no credential in it)."""

    __slots__ = (
        "aliases",
        "api_path",
        "auth_methods",
        "default_host",
        "display_name",
        "env",
        "host_env",
        "key_header",
        "name",
        "oauth",
        "verify_headers",
        "verify_path",
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
        *,
        api_path: str = "",
        verify_path: str = "/models",
        key_header: str = BEARER,
        verify_headers: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.name = name
        self.display_name = display_name
        self.env = env
        self.auth_methods = auth_methods
        self.aliases = aliases
        self.host_env = host_env
        self.default_host = default_host
        self.oauth = oauth
        self.api_path = api_path
        self.verify_path = verify_path
        self.key_header = key_header
        self.verify_headers = verify_headers

    @property
    def requires_auth(self) -> bool:
        """Whether the provider needs a credential at all (local servers do not)."""
        return bool(self.auth_methods)

    @property
    def default_base_url(self) -> str | None:
        """The base URL when ``host_env`` is not set (see ``nxuskit.Provider``)."""
        return join_path(self.default_host, self.api_path) if self.default_host else None

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
            "api_path": self.api_path,
            "base_url": self.default_base_url,
            "error": None,
        }

    def __repr__(self) -> str:
        return f"ProviderSpec({self.name!r}, env={self.env!r}, auth_methods={self.auth_methods!r})"


# Each entry names its source for the variables and the endpoint `provider verify` calls.
BUILTIN: tuple[ProviderSpec, ...] = (
    # OPENAI_API_KEY, OPENAI_BASE_URL: openai-python src/openai/_client.py (OpenAI.__init__)
    ProviderSpec(
        "openai",
        "OpenAI",
        "OPENAI_API_KEY",
        ("api_key",),
        ("gpt",),
        host_env="OPENAI_BASE_URL",
        default_host="https://api.openai.com/v1",
    ),
    # ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL (the API root, without /v1) and the
    # x-api-key and anthropic-version headers: anthropic-sdk-python src/anthropic/_client.py
    ProviderSpec(
        "claude",
        "Anthropic Claude",
        "ANTHROPIC_API_KEY",
        ("api_key",),
        ("anthropic",),
        host_env="ANTHROPIC_BASE_URL",
        default_host="https://api.anthropic.com",
        verify_path="/v1/models",
        key_header="x-api-key",
        verify_headers=(("anthropic-version", "2023-06-01"),),
    ),
    # GROQ_API_KEY, GROQ_BASE_URL (https://api.groq.com; the SDK adds /openai/v1/...):
    # groq-python src/groq/_client.py
    ProviderSpec(
        "groq",
        "Groq",
        "GROQ_API_KEY",
        ("api_key",),
        host_env="GROQ_BASE_URL",
        default_host="https://api.groq.com",
        api_path="/openai/v1",
        verify_path="/openai/v1/models",
    ),
    # MISTRAL_API_KEY, GET /v1/models: https://docs.mistral.ai/api/ (no base-URL variable)
    ProviderSpec(
        "mistral",
        "Mistral AI",
        "MISTRAL_API_KEY",
        ("api_key",),
        default_host="https://api.mistral.ai/v1",
    ),
    # FIREWORKS_API_KEY, the OpenAI-compatible /inference/v1: https://docs.fireworks.ai
    ProviderSpec(
        "fireworks",
        "Fireworks AI",
        "FIREWORKS_API_KEY",
        ("api_key",),
        default_host="https://api.fireworks.ai/inference/v1",
    ),
    # TOGETHER_API_KEY, TOGETHER_BASE_URL (with /v1): together-python src/together/client.py
    ProviderSpec(
        "together",
        "Together AI",
        "TOGETHER_API_KEY",
        ("api_key",),
        host_env="TOGETHER_BASE_URL",
        default_host="https://api.together.xyz/v1",
    ),
    # OPENROUTER_API_KEY; GET /api/v1/key needs the key (/models does not):
    # https://openrouter.ai/docs/api/api-reference/api-keys/get-current-key
    ProviderSpec(
        "openrouter",
        "OpenRouter",
        "OPENROUTER_API_KEY",
        ("api_key", "oauth"),
        default_host="https://openrouter.ai/api/v1",
        oauth=OPENROUTER_OAUTH,
        verify_path="/key",
    ),
    # PERPLEXITY_API_KEY, PERPLEXITY_BASE_URL: perplexity-py src/perplexity/_client.py;
    # GET /router/v1/models: https://docs.perplexity.ai/api-reference/gateway-models-get
    ProviderSpec(
        "perplexity",
        "Perplexity",
        "PERPLEXITY_API_KEY",
        ("api_key",),
        host_env="PERPLEXITY_BASE_URL",
        default_host="https://api.perplexity.ai",
        verify_path="/router/v1/models",
    ),
    # OLLAMA_HOST (host[:port], http and port 11434 by default): ollama-python
    # ollama/_client.py _parse_host; the OpenAI-compatible API is under /v1
    ProviderSpec(
        "ollama",
        "Ollama",
        None,
        (),
        host_env="OLLAMA_HOST",
        default_host="http://localhost:11434",
        api_path="/v1",
        verify_path="/v1/models",
    ),
    ProviderSpec(
        "lm-studio",
        "LM Studio",
        None,
        (),
        ("lmstudio",),
        host_env="LMSTUDIO_HOST",
        default_host="http://localhost:1234",
        api_path="/v1",
        verify_path="/v1/models",
    ),
    # GEMINI_API_KEY (the SDK also reads GOOGLE_API_KEY, which wins when both are set):
    # https://ai.google.dev/gemini-api/docs/api-key; GOOGLE_GEMINI_BASE_URL:
    # python-genai google/genai/_base_url.py; GET /v1beta/models with x-goog-api-key:
    # https://ai.google.dev/api/rest/v1beta/models/list; OpenAI-compatible: /v1beta/openai
    ProviderSpec(
        "gemini",
        "Google Gemini",
        "GEMINI_API_KEY",
        ("api_key",),
        host_env="GOOGLE_GEMINI_BASE_URL",
        default_host="https://generativelanguage.googleapis.com",
        api_path="/v1beta/openai",
        verify_path="/v1beta/models",
        key_header="x-goog-api-key",
    ),
    # XAI_API_KEY and https://api.x.ai/v1 (GET /v1/models): https://docs.x.ai/docs/api-reference
    ProviderSpec("xai", "xAI", "XAI_API_KEY", ("api_key",), default_host="https://api.x.ai/v1"),
    # DEEPSEEK_API_KEY, base https://api.deepseek.com (/v1 accepted), GET /models:
    # https://api-docs.deepseek.com/api/list-models
    ProviderSpec(
        "deepseek",
        "DeepSeek",
        "DEEPSEEK_API_KEY",
        ("api_key",),
        default_host="https://api.deepseek.com",
        api_path="/v1",
    ),
    # CO_API_KEY: cohere-python README; CO_API_URL (the API root): cohere-python
    # src/cohere/client.py; GET /v1/models: https://docs.cohere.com/reference/list-models;
    # OpenAI-compatible: /compatibility/v1 (https://docs.cohere.com/docs/compatibility-api)
    ProviderSpec(
        "cohere",
        "Cohere",
        "CO_API_KEY",
        ("api_key",),
        host_env="CO_API_URL",
        default_host="https://api.cohere.com",
        api_path="/compatibility/v1",
        verify_path="/v1/models",
    ),
    # AZURE_OPENAI_API_KEY, AZURE_OPENAI_ENDPOINT (https://RESOURCE.openai.azure.com):
    # openai-python src/openai/lib/azure.py; the v1 API at {endpoint}/openai/v1 with an
    # api-key header: https://learn.microsoft.com/rest/api/microsoft-foundry/azureopenai/models
    ProviderSpec(
        "azure-openai",
        "Azure OpenAI",
        "AZURE_OPENAI_API_KEY",
        ("api_key",),
        host_env="AZURE_OPENAI_ENDPOINT",
        api_path="/openai/v1",
        verify_path="/openai/v1/models",
        key_header="api-key",
    ),
)
