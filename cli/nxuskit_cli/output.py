"""How the CLI speaks: one-line errors with distinct exit codes, tables, JSON."""

from __future__ import annotations

import json
import sys
from typing import Any

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


class ServiceError(NxuskitError):
    """Installing or driving the service failed: no systemd or launchd here, or one of
    their commands (systemctl, launchctl) failed. CLI only; never on the wire."""

    kind = "service_error"


EXIT_CODES: dict[type[NxuskitError], int] = {
    NotAuthenticated: 1,
    # 2 is a usage error (typer/click)
    UnknownProvider: 3,
    DaemonUnavailable: 4,  # DaemonBusy too
    StoreUnavailable: 5,
    PermissionDenied: 6,
    VersionMismatch: 7,
    InvalidArgument: 8,
    ConfigError: 9,
    ProtocolError: 10,
    LoginFailed: 11,
    ServiceError: 12,
}
"""Exit status per error class (subclasses use their parent's); documented in --help."""

EXIT_UNREACHABLE = 13
"""``provider verify``: a provider could not be reached, or answered neither yes nor no."""

EXIT_MISSING_DEPENDENCY = 69  # sysexits' EX_UNAVAILABLE: nxuskit[cli] is not installed
EXIT_INTERNAL = 70
EXIT_INTERRUPTED = 130

EXIT_HELP = (
    "Exit codes: 0 ok; 1 not authenticated (verify: the provider rejected the key); "
    "2 usage error; 3 unknown provider; "
    "4 daemon unavailable; 5 store unavailable; 6 permission denied; 7 version mismatch; "
    "8 invalid argument; 9 bad config.toml; 10 protocol error; 11 login failed; "
    "12 service manager error (daemon install/start/stop); "
    "13 provider unreachable or unexpected answer (provider verify); 69 a dependency is "
    "missing (pip install 'nxuskit[cli]'); 70 internal error; 130 interrupted (Ctrl-C)."
)


def exit_code(error: NxuskitError) -> int:
    """The exit status for ``error``."""
    for cls in type(error).__mro__:
        if cls in EXIT_CODES:
            return EXIT_CODES[cls]
    return EXIT_CODES[ProtocolError]


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
