"""Where nxuskit keeps its socket and reads its configuration (standard library only).

The daemon and every client must agree on these paths without importing platformdirs
(the client stays light), so the rules are written out here and a test checks them
against platformdirs:

- socket: ``$NXUSKIT_SOCKET``, else ``<runtime dir>/nxuskit/nxuskitd.sock`` where the
  runtime dir is ``$XDG_RUNTIME_DIR``, else ``/run/user/<uid>`` when it exists, else
  ``$TMPDIR/runtime-<uid>`` (macOS: ``~/Library/Caches/TemporaryItems``);
- config: ``$XDG_CONFIG_HOME/nxuskit/config.toml`` (default ``~/.config``; macOS:
  ``~/Library/Application Support``);
- state (the autostarted daemon's log): ``$XDG_STATE_HOME/nxuskit`` (default
  ``~/.local/state``; macOS: ``~/Library/Logs``).

Whether a config file may be trusted is ``nxuskit.trust.config_problem``'s business.
"""

from __future__ import annotations

import os
import sys

APP = "nxuskit"
SOCKET_NAME = "nxuskitd.sock"


def _xdg(variable: str, default: str) -> str:
    value = os.environ.get(variable, "").strip()
    return value if value else os.path.expanduser(default)


def runtime_dir() -> str:
    """The per-user runtime directory that holds nxuskit's socket directory."""
    if sys.platform == "darwin":
        return os.path.expanduser("~/Library/Caches/TemporaryItems")
    value = os.environ.get("XDG_RUNTIME_DIR", "").strip()
    if value:
        return value
    uid = os.getuid()
    default = f"/run/user/{uid}"
    if os.path.isdir(default):
        return default
    tmp = os.environ.get("TMPDIR", "").strip() or "/tmp"  # noqa: S108 - the platformdirs rule
    return os.path.join(tmp, f"runtime-{uid}")


def socket_path() -> str:
    """The daemon's socket path: ``$NXUSKIT_SOCKET`` or the default in the runtime dir."""
    explicit = os.environ.get("NXUSKIT_SOCKET", "").strip()
    if explicit:
        return os.path.abspath(explicit)
    return os.path.join(runtime_dir(), APP, SOCKET_NAME)  # inlined: every call


def default_socket_path() -> str:
    """The socket path in the runtime dir, whatever ``$NXUSKIT_SOCKET`` says (where a
    systemd socket unit listens: ``%t/nxuskit/nxuskitd.sock``)."""
    return os.path.join(runtime_dir(), APP, SOCKET_NAME)


def xdg_config_home() -> str:
    """``$XDG_CONFIG_HOME``, default ``~/.config`` (where systemd reads user units too)."""
    return _xdg("XDG_CONFIG_HOME", "~/.config")


def config_dir() -> str:
    """The directory of config.toml."""
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~/Library/Application Support"), APP)
    return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), APP)  # inlined: every call


def config_path() -> str:
    """The path of config.toml (it need not exist)."""
    return os.path.join(config_dir(), "config.toml")


def state_dir() -> str:
    """Where an autostarted daemon writes its log."""
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~/Library/Logs"), APP)
    return os.path.join(_xdg("XDG_STATE_HOME", "~/.local/state"), APP)


def daemon_log_path() -> str:
    """The log file of a daemon started without a service manager (by a client, or by
    ``nxuskit-cli daemon start``)."""
    return os.path.join(state_dir(), "nxuskitd.log")


def lock_path(socket: str) -> str:
    """The daemon's instance lock, beside its socket (one daemon per socket)."""
    return socket + ".lock"


def start_lock_path(socket: str) -> str:
    """The lock clients take while one of them starts the daemon."""
    return socket + ".start.lock"


def generation_path(socket: str) -> str:
    """The daemon's generation file, beside its socket: clients map it to know whether a
    resolve they cached still holds (docs/protocol.md, "The generation file")."""
    return socket + ".generation"
