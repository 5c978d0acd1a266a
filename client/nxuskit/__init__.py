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
    StatusReport,
    auth_remove_credential,
    auth_resolve,
    auth_set_credential,
    auth_status,
    auth_status_all,
    auth_status_report,
)
from nxuskit.daemon import daemon_lock, daemon_status
from nxuskit.errors import (
    ConfigError,
    DaemonBusy,
    DaemonUnavailable,
    InvalidArgument,
    LoginFailed,
    NotAuthenticated,
    NxuskitError,
    PermissionDenied,
    ProtocolError,
    StoreUnavailable,
    UnknownProvider,
    VersionMismatch,
)
from nxuskit.login import (
    LoginResult,
    LoginStart,
    auth_login,
    auth_login_cancel,
    auth_login_start,
    auth_login_wait,
    auth_logout,
    auth_report_invalid,
)
from nxuskit.provider import Provider
from nxuskit.registry import ProviderSpec
from nxuskit.registry import load as load_registry
from nxuskit.store import Migration, StoreInfo, store_info, store_migrate

__version__ = "0.1.0"

__all__ = [
    "AuthStatus",
    "ConfigError",
    "DaemonBusy",
    "DaemonUnavailable",
    "InvalidArgument",
    "LoginFailed",
    "LoginResult",
    "LoginStart",
    "Migration",
    "NotAuthenticated",
    "NxuskitError",
    "PermissionDenied",
    "ProtocolError",
    "Provider",
    "ProviderSpec",
    "Resolution",
    "StatusReport",
    "StoreInfo",
    "StoreUnavailable",
    "UnknownProvider",
    "VersionMismatch",
    "__version__",
    "auth_login",
    "auth_login_cancel",
    "auth_login_start",
    "auth_login_wait",
    "auth_logout",
    "auth_remove_credential",
    "auth_report_invalid",
    "auth_resolve",
    "auth_set_credential",
    "auth_status",
    "auth_status_all",
    "auth_status_report",
    "daemon_lock",
    "daemon_status",
    "load_registry",
    "store_info",
    "store_migrate",
]
