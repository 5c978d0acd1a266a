"""nxuskit: credentials for LLM providers, resolved by a per-user daemon.

::

    from nxuskit import auth_resolve, auth_status, auth_set_credential, Provider

    auth_set_credential("openai", "sk-...")       # stored by nxuskitd (keyring or 0600 file)
    resolution = auth_resolve("openai")           # explicit > OPENAI_API_KEY > store
    resolution.secret, resolution.source          # ("sk-...", "store")
    auth_status("openai").status                  # "authenticated"
    Provider.create("ollama").base_url            # "http://localhost:11434/v1"

This package imports only the standard library. Errors are subclasses of
``NxuskitError`` (see ``nxuskit.errors``).
"""

from __future__ import annotations

__version__ = "0.1.0"

# Public name -> (module, attribute). Imported on first use (PEP 562), so an app that
# only resolves never loads the login, store or provider modules.
_EXPORTS: dict[str, tuple[str, str]] = {
    "daemon_lock": ("nxuskit.daemon", "daemon_lock"),
    "daemon_status": ("nxuskit.daemon", "daemon_status"),
    "Migration": ("nxuskit.answers", "Migration"),
    "StoreInfo": ("nxuskit.answers", "StoreInfo"),
    "store_info": ("nxuskit.store", "store_info"),
    "store_migrate": ("nxuskit.store", "store_migrate"),
    "AuditEntry": ("nxuskit.answers", "AuditEntry"),
    "AuditTrail": ("nxuskit.answers", "AuditTrail"),
    "audit_query": ("nxuskit.audit", "audit_query"),
    "AuthStatus": ("nxuskit.answers", "AuthStatus"),
    "Client": ("nxuskit.client", "Client"),
    "ConfigError": ("nxuskit.errors", "ConfigError"),
    "DaemonBusy": ("nxuskit.errors", "DaemonBusy"),
    "DaemonNotAnswering": ("nxuskit.errors", "DaemonNotAnswering"),
    "DaemonNotRunning": ("nxuskit.errors", "DaemonNotRunning"),
    "DaemonUnavailable": ("nxuskit.errors", "DaemonUnavailable"),
    "HttpxAuth": ("nxuskit.http_auth", "HttpxAuth"),
    "InvalidArgument": ("nxuskit.errors", "InvalidArgument"),
    "LoginFailed": ("nxuskit.errors", "LoginFailed"),
    "LoginResult": ("nxuskit.answers", "LoginResult"),
    "LoginStart": ("nxuskit.answers", "LoginStart"),
    "NotAuthenticated": ("nxuskit.errors", "NotAuthenticated"),
    "NxuskitError": ("nxuskit.errors", "NxuskitError"),
    "PermissionDenied": ("nxuskit.errors", "PermissionDenied"),
    "ProtocolError": ("nxuskit.errors", "ProtocolError"),
    "Provider": ("nxuskit.provider", "Provider"),
    "ProviderSpec": ("nxuskit.registry", "ProviderSpec"),
    "RequestsAuth": ("nxuskit.http_auth", "RequestsAuth"),
    "Resolution": ("nxuskit.answers", "Resolution"),
    "StatusReport": ("nxuskit.precedence", "StatusReport"),
    "StoreUnavailable": ("nxuskit.errors", "StoreUnavailable"),
    "UnknownProvider": ("nxuskit.errors", "UnknownProvider"),
    "VersionMismatch": ("nxuskit.errors", "VersionMismatch"),
    "auth_login": ("nxuskit.login", "auth_login"),
    "auth_login_cancel": ("nxuskit.login", "auth_login_cancel"),
    "auth_login_start": ("nxuskit.login", "auth_login_start"),
    "auth_login_wait": ("nxuskit.login", "auth_login_wait"),
    "auth_logout": ("nxuskit.login", "auth_logout"),
    "auth_remove_credential": ("nxuskit.auth", "auth_remove_credential"),
    "auth_report_invalid": ("nxuskit.login", "auth_report_invalid"),
    "auth_resolve": ("nxuskit.auth", "auth_resolve"),
    "auth_set_credential": ("nxuskit.auth", "auth_set_credential"),
    "auth_status": ("nxuskit.auth", "auth_status"),
    "auth_status_all": ("nxuskit.auth", "auth_status_all"),
    "auth_status_report": ("nxuskit.auth", "auth_status_report"),
    "load_registry": ("nxuskit.registry", "load"),
}

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nxuskit.answers import (
        AuditEntry,
        AuditTrail,
        AuthStatus,
        LoginResult,
        LoginStart,
        Migration,
        Resolution,
        StoreInfo,
    )
    from nxuskit.audit import audit_query
    from nxuskit.auth import (
        auth_remove_credential,
        auth_resolve,
        auth_set_credential,
        auth_status,
        auth_status_all,
        auth_status_report,
    )
    from nxuskit.client import Client
    from nxuskit.daemon import daemon_lock, daemon_status
    from nxuskit.errors import (
        ConfigError,
        DaemonBusy,
        DaemonNotAnswering,
        DaemonNotRunning,
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
    from nxuskit.http_auth import HttpxAuth, RequestsAuth
    from nxuskit.login import (
        auth_login,
        auth_login_cancel,
        auth_login_start,
        auth_login_wait,
        auth_logout,
        auth_report_invalid,
    )
    from nxuskit.precedence import StatusReport
    from nxuskit.provider import Provider
    from nxuskit.registry import ProviderSpec
    from nxuskit.registry import load as load_registry
    from nxuskit.store import store_info, store_migrate


def __getattr__(name: str) -> object:
    target = _EXPORTS.get(name)
    if target is None:
        raise AttributeError(f"module 'nxuskit' has no attribute {name!r}")
    value = getattr(__import__(target[0], fromlist=[target[1]]), target[1])
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "AuditEntry",
    "AuditTrail",
    "AuthStatus",
    "Client",
    "ConfigError",
    "DaemonBusy",
    "DaemonNotAnswering",
    "DaemonNotRunning",
    "DaemonUnavailable",
    "HttpxAuth",
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
    "RequestsAuth",
    "Resolution",
    "StatusReport",
    "StoreInfo",
    "StoreUnavailable",
    "UnknownProvider",
    "VersionMismatch",
    "__version__",
    "audit_query",
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
