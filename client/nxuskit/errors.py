"""The errors nxuskit raises, one small tree, shared by the client and the daemon.

::

    NxuskitError                      base: catch this to catch everything below
    ├── DaemonUnavailable             no daemon answers on the socket (and autostart did not help)
    │   ├── DaemonBusy                the daemon is at its connection limit
    │   ├── DaemonNotRunning          (client only) nothing listens, and none may be started
    │   └── DaemonNotAnswering        (client only) one listens but did not answer in time
    ├── VersionMismatch               the daemon speaks an older protocol than this client
    ├── UnknownProvider               no built-in or configured provider has that name
    ├── NotAuthenticated              no credential: not given, not in the environment, not stored
    ├── StoreUnavailable              the credential store cannot be read or written right now
    ├── PermissionDenied              the daemon refused this user, or a path has unsafe ownership
    ├── InvalidArgument               a request the daemon (or client) refuses as malformed
    ├── ConfigError                   config.toml cannot be read; the message names file and line
    ├── LoginFailed                   an OAuth login or token refresh failed: denied, timed out,
    │                                 cancelled, or the provider refused or could not be reached
    └── ProtocolError                 the other side broke the wire contract (a bug, please report)

Every class has a stable ``kind`` (the ``data.kind`` string on the wire) and a JSON-RPC
``code``. ``error_from_wire`` turns a JSON-RPC error object back into the right class.
Messages say what went wrong and how to fix it; they never contain a secret.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, ClassVar


class NxuskitError(Exception):
    """Base class of every error nxuskit raises."""

    kind: ClassVar[str] = "error"
    code: ClassVar[int] = -32603

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message

    def to_wire(self) -> dict[str, Any]:
        """The JSON-RPC error object for this error (no secret ever goes in it)."""
        return {"code": self.code, "message": self.message, "data": {"kind": self.kind}}


class DaemonUnavailable(NxuskitError):
    """No daemon answers on the socket; the message says how to start one."""

    kind = "daemon_unavailable"
    code = 1000


class DaemonBusy(DaemonUnavailable):
    """The daemon refused the connection because it holds its maximum number of them."""

    kind = "daemon_busy"
    code = 1008


class DaemonNotRunning(DaemonUnavailable):
    """Nothing listens at the socket, and this client may not start a daemon (autostart
    off, or a command that only looks). Raised by the client, never sent on the wire: it
    has its parent's kind and code."""


class DaemonNotAnswering(DaemonUnavailable):
    """Something accepted the connection but did not answer within the client's timeout
    (a stopped or hung daemon). Raised by the client, never sent on the wire: it has its
    parent's kind and code."""


class VersionMismatch(NxuskitError):
    """The daemon speaks an older protocol version than this client needs."""

    kind = "version_mismatch"
    code = 1001


class UnknownProvider(NxuskitError):
    """The provider name is neither built in nor defined in config.toml."""

    kind = "unknown_provider"
    code = 1002


class NotAuthenticated(NxuskitError):
    """No credential was found for a provider that needs one."""

    kind = "not_authenticated"
    code = 1003


class StoreUnavailable(NxuskitError):
    """The credential store cannot be used right now (locked, unreadable, corrupt, slow)."""

    kind = "store_unavailable"
    code = 1004


class PermissionDenied(NxuskitError):
    """The daemon refused this peer, or a file or directory has unsafe ownership or mode."""

    kind = "permission_denied"
    code = 1005


class InvalidArgument(NxuskitError):
    """A request was refused as malformed (JSON-RPC "invalid params")."""

    kind = "invalid_params"
    code = -32602


class ConfigError(NxuskitError):
    """config.toml is malformed; the message names the file and the line."""

    kind = "config_invalid"
    code = 1006


class LoginFailed(NxuskitError):
    """An OAuth login (or a token refresh) did not succeed; the message says why."""

    kind = "login_failed"
    code = 1010


class ProtocolError(NxuskitError):
    """The other side did not follow the wire contract (a bug in one of the two sides)."""

    kind = "protocol_error"
    code = -32603


_BY_KIND: dict[str, type[NxuskitError]] = {
    cls.kind: cls
    for cls in (
        DaemonUnavailable,
        DaemonBusy,
        VersionMismatch,
        UnknownProvider,
        NotAuthenticated,
        StoreUnavailable,
        PermissionDenied,
        InvalidArgument,
        ConfigError,
        LoginFailed,
        ProtocolError,
    )
}


def error_from_wire(error: object) -> NxuskitError:
    """Build the matching exception from a JSON-RPC error object."""
    if not isinstance(error, dict):
        return ProtocolError("the daemon sent a malformed error object")
    message = error.get("message")
    if not isinstance(message, str):
        message = "the daemon reported an error without a message"
    data = error.get("data")
    kind = data.get("kind") if isinstance(data, dict) else None
    cls = _BY_KIND.get(kind) if isinstance(kind, str) else None
    if cls is None:
        code = error.get("code")
        cls = InvalidArgument if code == InvalidArgument.code else ProtocolError
    return cls(message)
