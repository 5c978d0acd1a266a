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

``config_problem`` says whether a config file may be trusted (who owns and can write it).
"""

from __future__ import annotations

import os
import stat
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
    return os.path.join(runtime_dir(), APP, SOCKET_NAME)


def config_dir() -> str:
    """The directory of config.toml."""
    if sys.platform == "darwin":
        return os.path.join(os.path.expanduser("~/Library/Application Support"), APP)
    return os.path.join(_xdg("XDG_CONFIG_HOME", "~/.config"), APP)


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


def config_problem(path: str, opened: os.stat_result) -> str | None:
    """Why the config file at ``path`` must not be used, with the fix; None if it may be.

    ``opened`` is ``fstat`` of the file as opened. config.toml says where logins and keys
    go, so, as ssh does for ~/.ssh/config, it counts only when the file and every
    directory above it (up to your home, or ``/``) belong to you or root and nobody else
    can write them. A symlink is followed (dotfile managers link config files) and both
    the link's directories and the target's are checked. Not checked on Windows.
    """
    if sys.platform == "win32":
        return None
    uid = os.getuid()
    problem = _file_problem(path, opened, uid)
    if problem is not None:
        return problem
    real = os.path.realpath(path)
    try:
        now = os.stat(real)
    except OSError:
        now = None
    if now is None or (now.st_dev, now.st_ino) != (opened.st_dev, opened.st_ino):
        return f"{path} changed while it was being read: run the command again"
    home = os.path.realpath(os.path.expanduser("~"))
    lexical = _ancestors(os.path.dirname(os.path.abspath(path)), home)
    for directory in dict.fromkeys((*lexical, *_ancestors(os.path.dirname(real), home))):
        problem = _directory_problem(directory, path, uid)
        if problem is not None:
            return problem
    return None


def _ancestors(directory: str, home: str) -> list[str]:
    """``directory`` and its parents, up to ``home`` (included) or the root."""
    chain = [directory]
    while directory not in (home, os.path.dirname(directory)):
        directory = os.path.dirname(directory)
        chain.append(directory)
    return chain


def _file_problem(path: str, st: os.stat_result, uid: int) -> str | None:
    from nxuskit.trust import mode_text, owner_name

    copy = f"`cp {path} {path}.new && mv {path}.new {path}`"
    if not stat.S_ISREG(st.st_mode):
        return f"{path} is not a regular file: make it one, or remove it"
    if st.st_uid not in (uid, 0):
        return (
            f"{path} belongs to {owner_name(st.st_uid)}, not to you, so it is not used: "
            f"whoever owns it could redirect your logins; check what it says, then make it "
            f"yours with {copy}"
        )
    if _writable_by_others(st, uid):
        fix = f"run `chmod go-w {path}`" if st.st_uid == uid else f"make it yours with {copy}"
        return (
            f"{path} is writable by others (mode {mode_text(st)}), so it is not used: "
            f"check that nobody changed it, then {fix}"
        )
    return None


def _directory_problem(directory: str, path: str, uid: int) -> str | None:
    from nxuskit.trust import mode_text, owner_name

    try:
        st = os.stat(directory)
    except OSError as exc:
        return f"cannot check {directory}, a directory above {path}: {exc.strerror}"
    elsewhere = "keep config.toml in a directory of your own (set XDG_CONFIG_HOME)"
    if st.st_uid not in (uid, 0):
        return (
            f"{directory} belongs to {owner_name(st.st_uid)}, so {path} is not used: its owner "
            f"could replace the file; {elsewhere}"
        )
    # In a sticky directory (/tmp) others may add entries but not rename or delete ours.
    if st.st_mode & stat.S_ISVTX or not _writable_by_others(st, uid):
        return None
    fix = f"run `chmod go-w {directory}`" if st.st_uid == uid else elsewhere
    return (
        f"{directory} is writable by others (mode {mode_text(st)}), so {path} is not used: "
        f"anyone could replace the file; {fix}"
    )


def _writable_by_others(st: os.stat_result, uid: int) -> bool:
    """Write permission for anyone but the owner; a group write bit counts only when the
    group has members other than you (a user-private group, Debian's umask 002, does not)."""
    if st.st_mode & stat.S_IWOTH:
        return True
    return bool(st.st_mode & stat.S_IWGRP) and not _private_group(st.st_gid, uid)


def _private_group(gid: int, uid: int) -> bool:
    """Whether you are the only member of group ``gid`` (as Debian's ssh decides it)."""
    import grp
    import pwd

    try:
        group = grp.getgrgid(gid)
        name = pwd.getpwuid(uid).pw_name
    except KeyError:
        return False
    primary = [entry.pw_uid for entry in pwd.getpwall() if entry.pw_gid == gid]
    if any(member != name for member in group.gr_mem) or any(u != uid for u in primary):
        return False
    return bool(primary or group.gr_mem)
