"""Sockets handed over by a service manager, and telling systemd how the daemon is doing.

Socket activation: the service manager owns the socket file (it creates it with the right
mode and removes it); the daemon only serves the listening socket it inherits, and never
binds, chmods or unlinks that path itself.

- systemd passes listening sockets as fds 3, 4, ... with ``LISTEN_PID`` (the pid they are
  meant for: ours, else they are not for us), ``LISTEN_FDS`` (how many) and
  ``LISTEN_FDNAMES`` (``FileDescriptorName=`` of the socket unit, colon separated). As
  ``sd_listen_fds`` does, the variables are removed once read (children must not believe
  the fds are theirs) and the fds are marked close-on-exec.
- launchd keeps the sockets of a job's ``Sockets`` entry; ``launch_activate_socket(name)``
  in libSystem hands them to the job (called here through ctypes).
- ``Notifier`` speaks systemd's notify protocol (``sd_notify``): one datagram of
  ``KEY=VALUE`` lines to ``$NOTIFY_SOCKET`` (a path, or ``@name`` for an abstract socket):
  ``READY=1`` once serving, ``STOPPING=1`` at shutdown, ``WATCHDOG=1`` every half of
  ``$WATCHDOG_USEC``.
"""

from __future__ import annotations

import ctypes
import dataclasses
import errno
import logging
import os
import socket
import sys
from collections.abc import MutableMapping
from typing import Any, Protocol

import anyio

from nxuskitd.errors import StartupError

log = logging.getLogger("nxuskitd")

SD_LISTEN_FDS_START = 3
FD_NAME = "nxuskitd"
"""``FileDescriptorName=`` in nxuskitd.socket: the fd nxuskitd serves when given several."""
LAUNCHD_SOCKETS_KEY = "Listeners"
"""The key under ``Sockets`` in the LaunchAgent plist, passed to ``launch_activate_socket``."""
_LISTEN_VARIABLES = ("LISTEN_PID", "LISTEN_FDS", "LISTEN_FDNAMES")


@dataclasses.dataclass(frozen=True)
class ActivatedSocket:
    """A listening Unix socket inherited from ``manager`` ("systemd" or "launchd")."""

    sock: socket.socket
    path: str
    manager: str


def systemd_fds(
    environ: MutableMapping[str, str] | None = None,
    pid: int | None = None,
    first_fd: int = SD_LISTEN_FDS_START,
) -> list[tuple[int, str]]:
    """The fds systemd passed to this process, with their names (``sd_listen_fds_with_names``).

    Empty when ``LISTEN_PID`` is unset or names another process. The ``LISTEN_*``
    variables are removed either way; the fds are made close-on-exec.
    """
    env = os.environ if environ is None else environ
    values = {name: env.pop(name, None) for name in _LISTEN_VARIABLES}
    listen_pid, listen_fds = values["LISTEN_PID"], values["LISTEN_FDS"]
    if not listen_pid or not listen_fds:
        return []
    try:
        if int(listen_pid) != (os.getpid() if pid is None else pid):
            return []  # meant for the process that started us, not for us
        count = int(listen_fds)
    except ValueError:
        log.warning("ignoring malformed LISTEN_PID/LISTEN_FDS from the service manager")
        return []
    names = values["LISTEN_FDNAMES"].split(":") if values["LISTEN_FDNAMES"] else []
    names += ["unknown"] * (count - len(names))
    fds = [(first_fd + index, names[index]) for index in range(max(0, count))]
    for fd, _name in fds:
        os.set_inheritable(fd, False)
    return fds


def _listening_unix_socket(fd: int) -> socket.socket | None:
    try:
        sock = socket.socket(fileno=fd)
    except OSError:  # not a socket at all
        return None
    if (
        sock.family == socket.AF_UNIX
        and sock.type == socket.SOCK_STREAM
        and sock.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)
    ):
        return sock
    sock.detach()  # leave the fd as it was; the caller decides
    return None


def _choose(fds: list[tuple[int, str]], manager: str) -> ActivatedSocket:
    """The one listening Unix stream socket to serve (named ``FD_NAME`` first); others closed."""
    ordered = sorted(fds, key=lambda item: item[1] != FD_NAME)
    chosen: socket.socket | None = None
    for fd, name in ordered:
        sock = _listening_unix_socket(fd) if chosen is None else None
        if sock is not None:
            chosen = sock
            continue
        log.warning(
            "%s passed fd %d (%s) that nxuskitd does not use; closing it", manager, fd, name
        )
        os.close(fd)
    if chosen is None:
        raise StartupError(
            f"{manager} passed {len(fds)} socket(s) but none is a listening Unix stream "
            "socket: the socket unit needs ListenStream=<path> and Accept=no"
        )
    path = chosen.getsockname()
    if not isinstance(path, str) or not path.startswith("/"):
        chosen.close()
        raise StartupError(
            f"{manager} passed a Unix socket without a file-system path ({path!r}); "
            "nxuskitd needs one (ListenStream=%t/nxuskit/nxuskitd.sock)"
        )
    return ActivatedSocket(chosen, path, manager)


class LaunchLibrary(Protocol):
    """The two libSystem calls used: ``launch_activate_socket`` and ``free`` (a stand-in
    with the same ctypes signatures replaces them in tests)."""

    launch_activate_socket: Any
    free: Any


def _libsystem() -> LaunchLibrary:
    library = ctypes.CDLL("/usr/lib/libSystem.B.dylib", use_errno=True)
    library.launch_activate_socket.argtypes = [
        ctypes.c_char_p,
        ctypes.POINTER(ctypes.POINTER(ctypes.c_int)),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    library.launch_activate_socket.restype = ctypes.c_int
    library.free.argtypes = [ctypes.c_void_p]
    library.free.restype = None
    return library


def launchd_fds(name: str = LAUNCHD_SOCKETS_KEY, library: LaunchLibrary | None = None) -> list[int]:
    """The fds launchd holds for the plist's ``Sockets`` entry ``name``; empty when this
    process was not started by launchd (ESRCH) or its plist has no such entry (ENOENT)."""
    lib = _libsystem() if library is None else library
    fds = ctypes.POINTER(ctypes.c_int)()
    count = ctypes.c_size_t(0)
    error = lib.launch_activate_socket(name.encode(), ctypes.byref(fds), ctypes.byref(count))
    if error in (errno.ESRCH, errno.ENOENT):
        return []
    if error != 0:
        raise StartupError(f"launchd did not hand over socket {name!r}: {os.strerror(error)}")
    try:
        result = [int(fds[index]) for index in range(count.value)]
    finally:
        lib.free(fds)  # the array is malloc'ed by launchd for us
    for fd in result:
        os.set_inheritable(fd, False)
    return result


def adopt(environ: MutableMapping[str, str] | None = None) -> ActivatedSocket | None:
    """The socket a service manager handed over (systemd, or launchd on macOS), or None
    when the daemon was started without one (by hand, by a client) and binds its own.

    Raises StartupError when sockets were passed but none can be served.
    """
    fds = systemd_fds(environ)
    if fds:
        return _choose(fds, "systemd")
    if sys.platform == "darwin":
        try:
            launchd = launchd_fds()
        except (OSError, AttributeError) as exc:  # no libSystem or no such call: no launchd
            log.debug("launch_activate_socket is unavailable: %s", exc)
            launchd = []
        if launchd:
            return _choose([(fd, LAUNCHD_SOCKETS_KEY) for fd in launchd], "launchd")
    return None


def _notify_address(value: str) -> str | None:
    if value.startswith("@"):
        return "\0" + value[1:]  # an abstract socket (Linux)
    if value.startswith("/"):
        return value
    return None  # vsock: and other transports are not spoken here


class Notifier:
    """systemd's readiness protocol; every method does nothing without ``$NOTIFY_SOCKET``."""

    def __init__(self, address: str | None, watchdog_interval: float | None = None) -> None:
        self.address = address
        self.watchdog_interval = watchdog_interval

    @classmethod
    def from_environment(
        cls, environ: MutableMapping[str, str] | None = None, pid: int | None = None
    ) -> Notifier:
        """Read (and remove, so children do not inherit them) ``NOTIFY_SOCKET``,
        ``WATCHDOG_USEC`` and ``WATCHDOG_PID``."""
        env = os.environ if environ is None else environ
        raw = env.pop("NOTIFY_SOCKET", "")
        usec, watchdog_pid = env.pop("WATCHDOG_USEC", ""), env.pop("WATCHDOG_PID", "")
        address = _notify_address(raw) if raw else None
        if raw and address is None:
            log.warning("NOTIFY_SOCKET=%s: unsupported address; not notifying systemd", raw)
        interval = None
        try:
            ours = not watchdog_pid or int(watchdog_pid) == (os.getpid() if pid is None else pid)
            if usec and ours and int(usec) > 0:
                interval = int(usec) / 2_000_000
        except ValueError:
            log.warning("ignoring malformed WATCHDOG_USEC/WATCHDOG_PID")
        return cls(address, interval if address else None)

    def notify(self, message: str) -> bool:
        """Send ``message`` (``KEY=VALUE`` lines); whether it went out."""
        if self.address is None:
            return False
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.settimeout(1.0)
                sock.connect(self.address)
                sock.sendall(message.encode())
        except OSError as exc:
            first = message.partition("\n")[0]
            log.warning("could not notify systemd (%s): %s", first, exc)
            return False
        return True

    def ready(self, status: str) -> bool:
        """``READY=1``: the daemon serves (systemd's start job completes)."""
        return self.notify(f"READY=1\nSTATUS={status}")

    def stopping(self) -> bool:
        """``STOPPING=1``: an orderly shutdown has begun."""
        return self.notify("STOPPING=1\nSTATUS=shutting down")

    async def keep_watchdog(self) -> None:
        """Ping the watchdog every ``watchdog_interval`` seconds, until cancelled."""
        if self.watchdog_interval is None:
            return
        while True:
            self.notify("WATCHDOG=1")
            await anyio.sleep(self.watchdog_interval)
