"""nxuskit: credentials for LLM providers, resolved by a per-user daemon.

::

    from nxuskit import auth_resolve, auth_status, auth_set_credential, Provider

    auth_set_credential("openai", "sk-...")       # stored by nxuskitd (keyring or 0600 file)
    resolution = auth_resolve("openai")           # explicit > OPENAI_API_KEY > store
    resolution.secret, resolution.source          # ("sk-...", "store")
    auth_status("openai").status                  # "authenticated"
    Provider.create("ollama").base_url            # "http://localhost:11434"

This package imports only the standard library. Errors are subclasses of
``NxuskitError`` (see ``nxuskit.errors``).
"""

from nxuskit.auth import (
    AuthStatus,
    Resolution,
    auth_remove_credential,
    auth_resolve,
    auth_set_credential,
    auth_status,
    auth_status_all,
)
from nxuskit.daemon import daemon_status
from nxuskit.errors import (
    ConfigError,
    DaemonBusy,
    DaemonUnavailable,
    InvalidArgument,
    NotAuthenticated,
    NxuskitError,
    PermissionDenied,
    ProtocolError,
    StoreUnavailable,
    UnknownProvider,
    VersionMismatch,
)
from nxuskit.provider import Provider
from nxuskit.registry import ProviderSpec
from nxuskit.registry import load as load_registry

__version__ = "0.1.0"

__all__ = [
    "AuthStatus",
    "ConfigError",
    "DaemonBusy",
    "DaemonUnavailable",
    "InvalidArgument",
    "NotAuthenticated",
    "NxuskitError",
    "PermissionDenied",
    "ProtocolError",
    "Provider",
    "ProviderSpec",
    "Resolution",
    "StoreUnavailable",
    "UnknownProvider",
    "VersionMismatch",
    "__version__",
    "auth_remove_credential",
    "auth_resolve",
    "auth_set_credential",
    "auth_status",
    "auth_status_all",
    "daemon_status",
    "load_registry",
]
