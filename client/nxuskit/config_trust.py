"""Whether config.toml may be trusted: who owns it and who can write it and its directories.

config.toml says where logins and keys go (``token_url``, ``authorize_url``,
``default_host``), so, as ssh does for ~/.ssh/config, it counts only when the file and
every directory above it (up to your home, or ``/``) belong to you or root and nobody else
can write them. The directories are walked by ``nxuskit.trust.chain_problem`` with this
module's rule, which differs from the socket's on purpose (see ``config_rule``).
"""

from __future__ import annotations

import os
import stat
import sys

from nxuskit.trust import chain_problem, mode_text, owner_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from nxuskit.trust import Rule


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
    rule = config_rule(path, uid)
    return chain_problem(os.path.dirname(os.path.abspath(path)), rule, home) or (
        chain_problem(os.path.dirname(real), rule, home) if os.path.islink(path) else None
    )


def _file_problem(path: str, st: os.stat_result, uid: int) -> str | None:
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


def config_rule(path: str, uid: int) -> Rule:
    """config.toml's chain (for the file at ``path``): every directory is ``uid``'s or
    root's and not writable by others (a user-private group's write bit and any sticky
    directory are fine); a symlink is followed without being judged itself."""
    elsewhere = "keep config.toml in a directory of your own (set XDG_CONFIG_HOME)"

    def judge(directory: str, st: os.stat_result) -> str | None:
        if stat.S_ISLNK(st.st_mode):
            return None  # its target's chain is walked and judged
        if st.st_uid not in (uid, 0):
            return (
                f"{directory} belongs to {owner_name(st.st_uid)}, so {path} is not used: its "
                f"owner could replace the file; {elsewhere}"
            )
        # In a sticky directory (/tmp) others may add entries but not rename or delete ours.
        if st.st_mode & stat.S_ISVTX or not _writable_by_others(st, uid):
            return None
        fix = f"run `chmod go-w {directory}`" if st.st_uid == uid else elsewhere
        return (
            f"{directory} is writable by others (mode {mode_text(st)}), so {path} is not "
            f"used: anyone could replace the file; {fix}"
        )

    return judge


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
