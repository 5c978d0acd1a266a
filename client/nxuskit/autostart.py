"""Starting the daemon on demand, the way gpg's tools start gpg-agent.

When no daemon answers, the client creates the socket's directory (0700, the whole chain
checked: ``nxuskit.trust``), takes a lock file in it (never following a symlink), checks
again (another client may have started one meanwhile), starts ``nxuskitd`` detached with
a clean environment and its log in the state directory, and waits until the socket
answers. Concurrent clients thus start exactly one daemon. ``NXUSKIT_AUTOSTART=0`` turns
this off. An autostarted daemon exits by itself after a while without clients (see
``nxuskitd --help``, ``--idle-exit``).

The daemon is this installation's ``nxuskitd`` program (so ``pgrep nxuskitd`` finds it),
not the asking app's interpreter running a module. It gets only the environment it needs
(``DAEMON_ENVIRONMENT``): an app's ``OPENAI_API_KEY`` never ends up in the daemon.
"""

from __future__ import annotations

import os
import socket
import stat
import sys
import time

from nxuskit import paths, trust
from nxuskit.errors import DaemonUnavailable, PermissionDenied

TYPE_CHECKING = False
if TYPE_CHECKING:
    import subprocess

START_TIMEOUT = 10.0

DAEMON_ENVIRONMENT = frozenset(
    (
        "HOME", "USER", "LOGNAME", "PATH", "SHELL", "TMPDIR", "TZ", "LANG", "LANGUAGE",
        # the session bus and a display: the OS keyring and its unlock prompt need them
        "DBUS_SESSION_BUS_ADDRESS", "DISPLAY", "WAYLAND_DISPLAY", "XAUTHORITY",
        # OAuth refreshes go out over HTTPS: proxies and CA bundles must still apply
        "HTTPS_PROXY", "HTTP_PROXY", "NO_PROXY", "ALL_PROXY",
        "https_proxy", "http_proxy", "no_proxy", "all_proxy", "SSL_CERT_FILE", "SSL_CERT_DIR",
        "PYTHON_KEYRING_BACKEND",
    )
)  # fmt: skip
"""Variables the autostarted daemon inherits, besides every ``XDG_*``, ``LC_*`` and
``NXUSKIT_*`` one."""

_PREFIXES = ("XDG_", "LC_", "NXUSKIT_")


def enabled() -> bool:
    """Whether the client may start the daemon (``NXUSKIT_AUTOSTART`` is not 0/false/no)."""
    return os.environ.get("NXUSKIT_AUTOSTART", "1").strip().lower() not in ("0", "false", "no")


def daemon_environment(environ: dict[str, str] | None = None) -> dict[str, str]:
    """The environment an autostarted daemon gets: what it needs, no provider secrets."""
    source = os.environ if environ is None else environ
    return {
        name: value
        for name, value in source.items()
        if name in DAEMON_ENVIRONMENT or name.startswith(_PREFIXES)
    }


def daemon_command() -> list[str]:
    """How to run this installation's nxuskitd: the program installed beside this
    interpreter when this installation has the daemon's dependencies (``nxuskit[daemon]``),
    else the one on PATH, else this interpreter with ``-m nxuskitd``.

    Raises DaemonUnavailable when nxuskitd is not installed at all.
    """
    import importlib.util
    import shutil
    import sysconfig

    beside = os.path.join(sysconfig.get_path("scripts"), "nxuskitd")
    complete = all(importlib.util.find_spec(name) for name in ("anyio", "msgspec"))
    if complete and os.access(beside, os.X_OK):
        return [beside]
    found = shutil.which("nxuskitd")
    if found and (not complete or os.path.realpath(found) != os.path.realpath(beside)):
        return [found]
    if complete and importlib.util.find_spec("nxuskitd") is not None:
        return [sys.executable, "-m", "nxuskitd"]
    raise DaemonUnavailable(
        "nxuskitd is not installed here, so it cannot be started: install it with "
        "pip install 'nxuskit[daemon]' (or run it as a service: nxuskit-cli daemon install)"
    )


def answers(path: str) -> bool:
    """Whether something accepts connections at ``path`` (nothing is sent to it)."""
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(path)
    except OSError:
        return False
    finally:
        probe.close()
    return True


def _last_line(log: str) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2048))
            lines = handle.read().decode("utf-8", "replace").strip().splitlines()
    except OSError:
        return ""
    return lines[-1] if lines else ""


def _open_lock(path: str) -> int:
    """The start lock beside the socket, in its checked private directory."""
    flags = os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(paths.start_lock_path(path), flags, 0o600)
    except OSError as exc:
        raise PermissionDenied(
            f"cannot open {paths.start_lock_path(path)}: {exc.strerror}"
        ) from None
    st = os.fstat(fd)
    if st.st_uid != os.geteuid() or not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise PermissionDenied(f"{paths.start_lock_path(path)} is not a file of yours")
    return fd


def _spawn(path: str, log: str) -> subprocess.Popen[bytes]:
    import subprocess

    log_fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
    try:
        return subprocess.Popen(
            [*daemon_command(), "--socket", path, "--started-by", "autostart"],
            stdin=subprocess.DEVNULL,
            stdout=log_fd,
            stderr=log_fd,
            env=daemon_environment(),
            start_new_session=True,
            close_fds=True,
        )
    finally:
        os.close(log_fd)


_UNWAITED: list[subprocess.Popen[bytes]] = []
"""Started daemons of an older nxuskitd that does not leave its starter (kept referenced,
so that no warning is raised about a running child; reaped by subprocess later)."""


def _wait_until_serving(child: subprocess.Popen[bytes], path: str, log: str) -> None:
    """The started process exits 0 once its daemon serves (it continues in a process of
    its own: nxuskitd's ``system.detach``), or with the daemon's failure."""
    deadline = time.monotonic() + START_TIMEOUT
    delay = 0.005
    while time.monotonic() < deadline:
        code = child.poll()
        if code is not None:
            if code == 0 and answers(path):
                return
            detail = _last_line(log)
            raise DaemonUnavailable(
                f"nxuskitd exited at start (code {code})"
                + (f": {detail}" if detail else "")
                + f"; its log is {log}"
            )
        if answers(path):  # its starter exits within milliseconds now; an old one never
            import subprocess

            try:
                child.wait(timeout=1.0)
            except subprocess.TimeoutExpired:
                _UNWAITED.append(child)
            return
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
    raise DaemonUnavailable(
        f"nxuskitd did not answer at {path} within {START_TIMEOUT:.0f}s; its log is {log}"
    )


def start_daemon(path: str) -> None:
    """Start nxuskitd for ``path`` unless one answers there; return once it answers.

    Raises PermissionDenied (an unsafe directory on the way), DaemonUnavailable.
    """
    import fcntl

    trust.make_private_directory(os.path.dirname(path))
    lock_fd = _open_lock(path)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX)
        if answers(path):
            return
        log = paths.daemon_log_path()
        os.makedirs(os.path.dirname(log), mode=0o700, exist_ok=True)
        child = _spawn(path, log)
        _wait_until_serving(child, path, log)
    finally:
        os.close(lock_fd)
