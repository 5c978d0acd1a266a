"""The daemon's command-line options: one frozen object built from flags and environment.

(Not config.toml, which says which providers exist: that is ``nxuskit.config``'s.)
"""

from __future__ import annotations

import argparse
import dataclasses
import os

import platformdirs

from nxuskit import __version__, audit, paths, protocol
from nxuskitd.stores import AUTO, CHOICES


@dataclasses.dataclass(frozen=True)
class DaemonConfig:
    """Everything ``serve`` needs; built by ``from_args``."""

    socket_path: str
    store: str = AUTO
    log_level: str = "info"
    data_dir: str = ""
    config_path: str | None = None
    max_connections: int = 1024
    max_message: int = protocol.MAX_MESSAGE_BYTES
    partial_timeout: float = 10.0
    idle_timeout: float | None = 600.0
    store_timeout: float = 5.0
    cache_idle: float | None = 600.0
    cache_max: float | None = 7200.0
    shutdown_grace: float = 5.0
    started_by: str = "hand"
    idle_exit: float | None = None
    """Exit after this many seconds with no client, login or refresh (None: never)."""
    state_dir: str | None = None
    """Where the audit log is written (None: no audit log, as with --no-audit)."""
    audit_max_bytes: int = audit.MAX_BYTES


AUTOSTART_IDLE_EXIT = 600.0
"""How long a daemon that a client started waits for clients before it exits."""


def _idle_exit(parser: argparse.ArgumentParser, args: argparse.Namespace) -> float | None:
    raw = args.idle_exit
    if raw is None:
        raw = os.environ.get("NXUSKIT_IDLE_EXIT", "").strip() or None
    if raw is None:
        return AUTOSTART_IDLE_EXIT if args.started_by == "autostart" else None
    try:
        seconds = float(raw)
    except ValueError:
        parser.error(f"--idle-exit / NXUSKIT_IDLE_EXIT: {raw!r} is not a number of seconds")
    return seconds if seconds > 0 else None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nxuskitd",
        description="The nxuskit credential daemon: serves API keys and OAuth tokens to your "
        "apps over JSON-RPC 2.0 on a private Unix socket. Runs in the foreground; "
        "systemd, launchd or the client library start it for you.",
        epilog="Environment: NXUSKIT_SOCKET (socket path), NXUSKIT_STORE, NXUSKIT_LOG_LEVEL, "
        "NXUSKIT_IDLE_EXIT. "
        "Protocol: docs/protocol.md.",
    )
    parser.add_argument(
        "--socket",
        metavar="PATH",
        help=f"socket to serve (default: $NXUSKIT_SOCKET or {paths.socket_path()})",
    )
    parser.add_argument(
        "--store",
        choices=CHOICES,
        default=os.environ.get("NXUSKIT_STORE") or AUTO,
        help="where credentials live: the OS keyring, a 0600 file, or auto "
        "(keyring when usable, else file; default)",
    )
    parser.add_argument(
        "--log-level",
        default=os.environ.get("NXUSKIT_LOG_LEVEL") or "info",
        choices=("debug", "info", "warning", "error"),
        help="log verbosity on stderr (default info; secrets are never logged)",
    )
    parser.add_argument(
        "--max-connections",
        type=int,
        default=1024,
        metavar="N",
        help="connections served at once (default 1024)",
    )
    parser.add_argument(
        "--idle-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="close connections silent this long; 0 keeps them (default 600)",
    )
    parser.add_argument("--partial-timeout", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.add_argument(
        "--store-timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="give up on a store call after this long (default 5)",
    )
    parser.add_argument(
        "--cache-idle",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="forget a cached secret unused this long; 0 caches nothing (default 600)",
    )
    parser.add_argument(
        "--cache-max",
        type=float,
        default=7200.0,
        metavar="SECONDS",
        help="forget a cached secret this long after reading it, used or not (default 7200)",
    )
    parser.add_argument(
        "--idle-exit",
        metavar="SECONDS",
        help="exit after this long with no client, login or refresh; 0 never (default: "
        f"{AUTOSTART_IDLE_EXIT:.0f} when a client started it, else never; or $NXUSKIT_IDLE_EXIT)",
    )
    parser.add_argument(
        "--no-audit",
        action="store_true",
        help="keep no audit log of credential accesses (default: one in "
        f"{os.path.join(paths.state_dir(), audit.FILE_NAME)})",
    )
    parser.add_argument(
        "--audit-max-bytes",
        type=int,
        default=audit.MAX_BYTES,
        metavar="BYTES",
        help=f"start a new audit log file past this size, keeping {audit.GENERATIONS} older "
        f"ones (default {audit.MAX_BYTES})",
    )
    parser.add_argument(
        "--started-by",
        choices=protocol.STARTED_BY,
        default="hand",
        help=argparse.SUPPRESS,
    )
    parser.add_argument("--version", action="version", version=f"nxuskitd {__version__}")
    return parser


def from_args(argv: list[str] | None = None) -> DaemonConfig:
    """Parse the command line (``--help`` and ``--version`` exit here)."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.store not in CHOICES:
        parser.error(f"NXUSKIT_STORE={args.store!r}: choose one of {', '.join(CHOICES)}")
    socket_path = os.path.abspath(args.socket) if args.socket else paths.socket_path()
    return DaemonConfig(
        socket_path=socket_path,
        store=args.store,
        log_level=args.log_level,
        data_dir=platformdirs.user_data_dir(paths.APP, appauthor=False),
        config_path=paths.config_path(),
        max_connections=max(1, args.max_connections),
        partial_timeout=max(0.1, args.partial_timeout),
        idle_timeout=args.idle_timeout if args.idle_timeout > 0 else None,
        store_timeout=max(0.1, args.store_timeout),
        cache_idle=max(0.0, args.cache_idle),
        cache_max=max(0.0, args.cache_max),
        started_by=args.started_by,
        idle_exit=_idle_exit(parser, args),
        state_dir=None if args.no_audit else paths.state_dir(),
        audit_max_bytes=max(256, args.audit_max_bytes),
    )
