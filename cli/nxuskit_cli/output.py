"""How the CLI speaks: one-line errors with distinct exit codes, tables, JSON."""

from __future__ import annotations

import json
import sys
import time

from nxuskit.errors import (
    ConfigError,
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

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~3 ms at start, and `token` runs at every tool start
    from typing import Any


class ServiceError(NxuskitError):
    """Installing or driving the service failed: no systemd or launchd here, or one of
    their commands (systemctl, launchctl) failed. CLI only; never on the wire."""

    kind = "service_error"


class CommandNotRunnable(NxuskitError):
    """``run``'s command was found but cannot run (not executable): exit 126, as in a
    shell. CLI only; never on the wire."""

    kind = "command_not_runnable"


class CommandNotFound(CommandNotRunnable):
    """``run``'s command was not found: exit 127, as in a shell. CLI only."""

    kind = "command_not_found"


EXIT_CODES: dict[int, tuple[type[NxuskitError] | None, str]] = {
    0: (None, "ok"),
    1: (NotAuthenticated, "not authenticated (verify: the provider rejected the key)"),
    2: (None, "usage error"),
    3: (UnknownProvider, "unknown provider"),
    # DaemonBusy, DaemonNotRunning and DaemonNotAnswering too (subclasses)
    4: (DaemonUnavailable, "daemon unavailable: not running (status and lock never start "
        "it), not answering, or busy"),
    5: (StoreUnavailable, "store unavailable"),
    6: (PermissionDenied, "permission denied"),
    7: (VersionMismatch, "version mismatch"),
    8: (InvalidArgument, "invalid argument"),
    9: (ConfigError, "bad config.toml"),
    10: (ProtocolError, "protocol error"),
    11: (LoginFailed, "login failed"),
    12: (ServiceError, "service manager error (daemon install/start/stop)"),
    13: (None, "provider unreachable or unexpected answer (provider verify)"),
    69: (None, "a dependency is missing (pip install 'nxuskit[cli]')"),
    70: (None, "internal error"),
    # `run` exits with its command's status; these two are its own, as a shell's
    126: (CommandNotRunnable, "run: the command cannot be run (not executable)"),
    127: (CommandNotFound, "run: the command was not found"),
    130: (None, "interrupted (Ctrl-C)"),
}  # fmt: skip
"""Every exit status of nxuskit-cli: the error class it stands for (subclasses use their
parent's), and what --help says of it (``EXIT_HELP`` is made from this table)."""

EXIT_UNREACHABLE = 13
"""``provider verify``: a provider could not be reached, or answered neither yes nor no."""
EXIT_MISSING_DEPENDENCY = 69  # sysexits' EX_UNAVAILABLE: nxuskit[cli] is not installed
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

_BY_ERROR = {cls: code for code, (cls, _) in EXIT_CODES.items() if cls is not None}

EXIT_HELP = (
    "Exit codes: " + "; ".join(f"{code} {text}" for code, (_, text) in EXIT_CODES.items()) + "."
)


def exit_code(error: NxuskitError) -> int:
    """The exit status for ``error``."""
    for cls in type(error).__mro__:
        if cls in _BY_ERROR:
            return _BY_ERROR[cls]
    return _BY_ERROR[ProtocolError]


def error_line(error: NxuskitError) -> str:
    """The one line the CLI prints on stderr for ``error``."""
    return f"nxuskit-cli: {error}"


def print_json(value: Any) -> None:
    """Print ``value`` as indented JSON on stdout."""
    print(json.dumps(value, indent=2, ensure_ascii=False, default=_wire))


def _wire(value: object) -> Any:
    """Answers (``nxuskit.answers``) are printed as the daemon sent them."""
    to_wire = getattr(value, "to_wire", None)
    if to_wire is None:
        raise TypeError(f"{type(value).__name__} is not JSON data")
    return to_wire()


def note(message: str) -> None:
    """A hint on stderr (not part of the command's output)."""
    print(f"note: {message}", file=sys.stderr)


def format_expiry(expires_at: float | None, now: float | None = None) -> str:
    """``2025-06-01 14:05 (in 59 min)``, ``... (expired)``, or "" for no expiry."""
    if expires_at is None:
        return ""
    now = time.time() if now is None else now
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(expires_at))
    left = expires_at - now
    if left <= 0:
        return f"{when} (expired)"
    if left < 120:
        return f"{when} (in {left:.0f} s)"
    if left < 2 * 3600:
        return f"{when} (in {left / 60:.0f} min)"
    return f"{when} (in {left / 3600:.0f} h)"
