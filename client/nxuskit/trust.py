"""Who a client (and the daemon) may trust: directories, config.toml, the daemon.

One walker (``chain_problem``) goes down a chain of directories, following symlinks, and
asks a rule about each step. Two rules use it, deliberately different: the socket's chain
(``socket_rule``, below) and config.toml's (``nxuskit.config_trust``: up to your home
only, a user-private group's write bit and any sticky directory accepted, symlinks
followed unjudged, as ssh treats its own files). Client and daemon hold the same rules,
so a client never talks to a socket that the daemon itself would have refused to serve:

- **The chain.** Every directory from ``/`` down to the socket's directory is owned by
  this user or by root, and no other user can write to it, except a root-owned sticky
  directory such as ``/tmp`` (where others can create names but not replace ours). A
  symlink on the way must be owned by this user or root, and its target passes the same
  rules. This is what ssh checks for its files, and it stops another user from swapping a
  directory (or the socket in it) underneath us.
- **The private directory.** The socket's own directory is a real directory (not a
  symlink), owned by this user, and closed to everyone else (no group or other bits).
- **The peer.** Once connected, and before anything is sent, the kernel's word on who
  serves the socket (``SO_PEERCRED`` on Linux, ``LOCAL_PEERCRED`` on macOS and the BSDs)
  must be this user. Anything else is refused with ``PermissionDenied``, naming the path
  and the owner, and nothing is sent.

Messages never advise loosening or changing a shared directory such as ``/tmp``: they
name the directory and say to use a directory of one's own.
"""

from __future__ import annotations

import os
import socket
import stat
import struct
import sys

from nxuskit.errors import PermissionDenied

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    Rule = Callable[[str, os.stat_result], str | None]
    """What is wrong with one step of a chain (given its ``lstat``), or None."""

_MAX_LINKS = 16
_FIX = "use a directory only you can write to (set XDG_RUNTIME_DIR, or NXUSKIT_SOCKET)"


def owner_name(uid: int) -> str:
    """``uid 1000 (ada)``, or just ``uid 1000`` when it has no name."""
    try:
        import pwd

        return f"uid {uid} ({pwd.getpwuid(uid).pw_name})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def mode_text(st: os.stat_result) -> str:
    """The permission bits as ``ls`` people read them, special bits included (``1777``)."""
    return f"{stat.S_IMODE(st.st_mode):04o}"


def chain_problem(directory: str, rule: Rule, boundary: str | None = None) -> str | None:
    """The first problem ``rule`` finds on the way down to ``directory``, or None.

    The walk starts at ``/``, or at ``boundary`` when ``directory`` lies below it, and
    gives ``rule`` each directory and each symlink on the way with its ``lstat``; a
    symlink's target is walked the same way (at most 16 links deep) and the walk goes on
    from there. A missing step ends the walk without a problem: its parent was judged,
    and whoever creates it creates it there.
    """
    return _walk(os.path.abspath(directory), rule, boundary, 0)


def _below(path: str, top: str) -> bool:
    return path == top or path.startswith(top.rstrip("/") + "/")


def _walk(path: str, rule: Rule, boundary: str | None, links: int) -> str | None:
    top = boundary if boundary is not None and _below(path, boundary) else "/"
    current = ""
    for name in (top, *_names(path, top)):
        step = os.path.join(current, name)
        try:
            st = os.lstat(step)
        except FileNotFoundError:
            return None
        except OSError as exc:
            return f"cannot check {step}: {exc.strerror}"
        problem = rule(step, st)
        if problem is None and stat.S_ISLNK(st.st_mode):
            problem = _follow(step, path, rule, boundary, links)
            step = os.path.realpath(step)
        if problem is not None:
            return problem
        current = step
    return None


def _follow(link: str, path: str, rule: Rule, boundary: str | None, links: int) -> str | None:
    """Walk the chain of ``link``'s target (on the way to ``path``)."""
    if links >= _MAX_LINKS:
        return f"too many symlinks on the way to {path}"
    return _walk(os.path.realpath(link), rule, boundary, links + 1)


def _names(path: str, top: str) -> list[str]:
    return [name for name in path[len(top) :].split("/") if name]


def check_directory_chain(directory: str, uid: int | None = None) -> None:
    """Check every directory from ``/`` down to ``directory`` (see the module docstring).

    Raises PermissionDenied naming the first directory that fails, and what to do.
    A missing directory is not an error: its parent was checked, and whoever creates it
    creates it for us.
    """
    problem = chain_problem(directory, socket_rule(os.geteuid() if uid is None else uid))
    if problem is not None:
        raise PermissionDenied(problem)


def socket_rule(uid: int) -> Rule:
    """The socket's chain: every step is ``uid``'s or root's, and no directory can be
    written by others unless it is root's and sticky (``/tmp``)."""

    def judge(path: str, st: os.stat_result) -> str | None:
        if st.st_uid not in (uid, 0):
            kind = "symlink" if stat.S_ISLNK(st.st_mode) else "directory"
            return (
                f"the {kind} {path} belongs to {owner_name(st.st_uid)}, who could redirect "
                f"nxuskit's socket: {_FIX}"
            )
        if stat.S_ISLNK(st.st_mode):
            return None
        if not stat.S_ISDIR(st.st_mode):
            return f"{path} is not a directory"
        if not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return None
        if st.st_uid == 0 and st.st_mode & stat.S_ISVTX:
            return None  # /tmp and its kind: others may add names, never replace ours
        return (
            f"{path} can be written by other users (mode {mode_text(st)}, owner "
            f"{owner_name(st.st_uid)}), who could replace what is in it: {_FIX}"
        )

    return judge


def check_private_directory(
    directory: str, uid: int | None = None, *, fix: str | None = None
) -> None:
    """``directory`` (which must exist) is a real directory of this user, closed to others.

    ``fix`` is the advice for a directory that is not the socket's (the daemon's data
    directory); by default the messages advise on the socket's.
    Raises PermissionDenied naming the directory, its owner or mode, and the fix.
    """
    uid = os.geteuid() if uid is None else uid
    try:
        st = os.lstat(directory)
    except OSError as exc:
        raise PermissionDenied(f"cannot check {directory}: {exc.strerror}") from None
    if stat.S_ISLNK(st.st_mode):
        raise PermissionDenied(
            f"{directory} is a symlink, not a real directory: {fix}"
            if fix
            else f"{directory} is a symlink: nxuskit's socket directory must be a real "
            "directory; remove the link and let nxuskit create it"
        )
    if not stat.S_ISDIR(st.st_mode):
        raise PermissionDenied(f"{directory} is not a directory: move it away")
    if st.st_uid != uid:
        raise PermissionDenied(
            f"{directory} belongs to {owner_name(st.st_uid)}, not to you ({owner_name(uid)}): "
            f"nxuskit will not use it; {fix or _FIX}"
        )
    if st.st_mode & 0o077:
        raise PermissionDenied(_open_to_others(directory, st, fix))


def _open_to_others(directory: str, st: os.stat_result, fix: str | None = None) -> str:
    problem = f"{directory} is open to other users (mode {mode_text(st)})"
    # Only nxuskit's own directory may be tightened; anything else (/tmp, a home
    # directory, a shared project folder) is someone's choice: pick another place instead.
    if os.path.basename(directory) == "nxuskit" and not st.st_mode & stat.S_ISVTX:
        return f"{problem}: run chmod 700 {directory}"
    if fix:
        return f"{problem}: {fix}"
    return (
        f"{problem}: the socket needs a directory of its own, like "
        f"{os.path.join(directory, 'nxuskit', 'nxuskitd.sock')} or the default in "
        "$XDG_RUNTIME_DIR (set it with --socket or NXUSKIT_SOCKET)"
    )


def make_private_directory(directory: str) -> None:
    """Create ``directory`` 0700 (and its missing parents 0700), then check the chain above
    it and that it is private (``check_socket_directory``). An existing one is checked,
    never changed.

    Raises PermissionDenied (a directory on the way is not safe) or OSError (cannot create).
    """
    uid = os.geteuid()
    path = os.path.abspath(directory)
    check_directory_chain(os.path.dirname(path), uid)
    missing = []
    while not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:  # noqa: SIM105 - contextlib.suppress would cost every app an import
            os.mkdir(path, 0o700)
        except FileExistsError:
            pass  # made meanwhile (a client, the daemon, or someone else): judged below
        check_directory_chain(os.path.dirname(path), uid)
    check_socket_directory(directory, uid)


def check_socket_directory(directory: str, uid: int | None = None) -> None:
    """The chain above ``directory`` passes, and ``directory`` itself is private.

    Raises PermissionDenied naming what is wrong.
    """
    uid = os.geteuid() if uid is None else uid
    check_directory_chain(os.path.dirname(os.path.abspath(directory)), uid)
    check_private_directory(directory, uid)


def peer_uid(sock: socket.socket) -> int | None:
    """The uid of the process at the other end of a connected Unix socket, or None when
    this OS cannot tell (then nothing may be sent)."""
    if sys.platform.startswith("linux"):
        creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return int(struct.unpack("3i", creds)[1])
    if sys.platform == "darwin" or "bsd" in sys.platform:
        # struct xucred {u_int cr_version; uid_t cr_uid; short cr_ngroups; gid_t cr_groups[16]}
        # at level SOL_LOCAL (0), option LOCAL_PEERCRED (1). Designed from the headers; not
        # run here (no macOS or BSD machine in CI).
        creds = sock.getsockopt(0, 1, struct.calcsize("IIh16I"))
        return int(struct.unpack_from("II", creds)[1])
    return None


def check_peer(sock: socket.socket, path: str) -> None:
    """Refuse a daemon that is not this user's (call before sending anything)."""
    me = os.geteuid()
    try:
        uid = peer_uid(sock)
    except OSError:
        uid = None
    if uid is None:
        raise PermissionDenied(
            f"cannot tell who serves {path} on this system, so nothing was sent to it"
        )
    if uid != me:
        raise PermissionDenied(
            f"refusing {path}: it is served by {owner_name(uid)}, not by you "
            f"({owner_name(me)}), so nothing was sent to it; {_FIX}"
        )
