"""Socket activation and sd_notify, against real sockets in this process.

systemd's fds are imitated by dup'ing listening sockets to a free block of fd numbers and
pointing ``first_fd`` there; launchd's ``launch_activate_socket`` is replaced by a
stand-in with the same ctypes signature (the real call was not run here: no macOS).
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxuskitd import activation
from nxuskitd.errors import StartupError


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A directory with a path short enough for AF_UNIX."""
    with tempfile.TemporaryDirectory(prefix="nxk-", dir="/tmp") as name:
        yield Path(name)


def _listening(path: Path) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.listen()
    return sock


def _closed(fd: int) -> bool:
    try:
        os.fstat(fd)
    except OSError as exc:
        return exc.errno == errno.EBADF
    return False


def _place(socks: list[socket.socket]) -> int:
    """Dup ``socks`` to consecutive free fds (inheritable, as systemd passes them)."""
    first = 300
    while not all(_closed(first + offset) for offset in range(len(socks))):
        first += len(socks)
    for offset, sock in enumerate(socks):
        os.dup2(sock.fileno(), first + offset, inheritable=True)
    return first


def test_systemd_socket_is_adopted_and_the_variables_are_removed(short_dir):
    with _listening(short_dir / "s.sock") as original:
        first = _place([original])
        env = {"LISTEN_PID": str(os.getpid()), "LISTEN_FDS": "1", "LISTEN_FDNAMES": "nxuskitd"}
        fds = activation.systemd_fds(env, first_fd=first)
        assert fds == [(first, "nxuskitd")]
        assert env == {}
        assert not os.get_inheritable(first), "an adopted fd must be close-on-exec"
        chosen = activation._choose(fds, "systemd")
        try:
            assert chosen.path == str(short_dir / "s.sock")
            assert chosen.manager == "systemd"
            assert chosen.sock.fileno() == first
        finally:
            chosen.sock.close()


def test_fds_meant_for_another_process_are_left_alone():
    env = {"LISTEN_PID": str(os.getpid() + 1), "LISTEN_FDS": "1"}
    assert activation.systemd_fds(env) == []
    assert env == {}, "the variables are never passed on to children"


@pytest.mark.parametrize(
    "env",
    [{}, {"LISTEN_PID": "x", "LISTEN_FDS": "1"}, {"LISTEN_FDS": "1"}],
)
def test_missing_or_malformed_variables_adopt_nothing(env):
    assert activation.systemd_fds(dict(env)) == []
    assert activation.adopt(dict(env)) is None


def test_the_named_socket_wins_and_the_others_are_closed(short_dir):
    with _listening(short_dir / "a.sock") as a, _listening(short_dir / "b.sock") as b:
        first = _place([a, b])
        env = {
            "LISTEN_PID": str(os.getpid()),
            "LISTEN_FDS": "2",
            "LISTEN_FDNAMES": "other:nxuskitd",
        }
        chosen = activation._choose(activation.systemd_fds(env, first_fd=first), "systemd")
        try:
            assert chosen.path == str(short_dir / "b.sock")
            assert _closed(first), "an fd nxuskitd does not serve is closed"
        finally:
            chosen.sock.close()


def test_a_socket_that_does_not_listen_is_refused(short_dir):
    one, two = socket.socketpair()
    with one, two:
        first = _place([one])
        with pytest.raises(StartupError, match="Accept=no"):
            activation._choose([(first, "nxuskitd")], "systemd")
        assert _closed(first)


def test_an_abstract_socket_is_refused():
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(f"\0nxuskit-test-{os.getpid()}")
    sock.listen()
    with sock:
        first = _place([sock])
        with pytest.raises(StartupError, match="file-system path"):
            activation._choose([(first, "nxuskitd")], "systemd")


# --- sd_notify --------------------------------------------------------------------------


def _receiver(address: str) -> socket.socket:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(5)
    return sock


def test_notify_to_a_path_socket(short_dir):
    with _receiver(str(short_dir / "notify")) as receiver:
        env = {"NOTIFY_SOCKET": str(short_dir / "notify")}
        notifier = activation.Notifier.from_environment(env)
        assert env == {}, "NOTIFY_SOCKET is not passed on to children"
        assert notifier.ready("serving unix:/x")
        assert receiver.recv(4096) == b"READY=1\nSTATUS=serving unix:/x"
        assert notifier.stopping()
        assert receiver.recv(4096).startswith(b"STOPPING=1")


def test_notify_to_an_abstract_socket():
    name = f"nxuskit-notify-{os.getpid()}"
    with _receiver("\0" + name) as receiver:
        notifier = activation.Notifier.from_environment({"NOTIFY_SOCKET": "@" + name})
        assert notifier.notify("WATCHDOG=1")
        assert receiver.recv(4096) == b"WATCHDOG=1"


def test_without_notify_socket_nothing_is_sent():
    notifier = activation.Notifier.from_environment({})
    assert notifier.address is None
    assert not notifier.ready("serving")
    assert notifier.watchdog_interval is None


def test_a_vanished_notify_socket_is_only_a_warning(short_dir, caplog):
    notifier = activation.Notifier.from_environment({"NOTIFY_SOCKET": str(short_dir / "gone")})
    assert not notifier.ready("serving")
    assert "could not notify systemd" in caplog.text


def test_watchdog_interval_is_half_the_timeout():
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(os.getpid())}
    notifier = activation.Notifier.from_environment(env)
    assert notifier.watchdog_interval == 15.0
    assert env == {}


def test_a_watchdog_for_another_process_is_ignored():
    env = {"NOTIFY_SOCKET": "/run/x", "WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}
    assert activation.Notifier.from_environment(env).watchdog_interval is None


@pytest.mark.anyio
async def test_keep_watchdog_pings(short_dir):
    import anyio

    with _receiver(str(short_dir / "notify")) as receiver:
        notifier = activation.Notifier(str(short_dir / "notify"), watchdog_interval=0.01)
        with anyio.move_on_after(0.2):
            await notifier.keep_watchdog()
        receiver.settimeout(0)
        pings = []
        while True:
            try:
                pings.append(receiver.recv(64))
            except BlockingIOError:
                break
        assert len(pings) >= 3
        assert set(pings) == {b"WATCHDOG=1"}


# --- launchd: a stand-in for launch_activate_socket --------------------------------------

_ACTIVATE = ctypes.CFUNCTYPE(
    ctypes.c_int,
    ctypes.c_char_p,
    ctypes.POINTER(ctypes.POINTER(ctypes.c_int)),
    ctypes.POINTER(ctypes.c_size_t),
)
_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p)


class StandInLaunchd:
    """Behaves like libSystem's launch_activate_socket for a job with one Sockets entry."""

    def __init__(self, fds: list[int], error: int = 0, name: bytes = b"Listeners") -> None:
        self.calls: list[bytes] = []
        self.freed: list[int] = []
        self._array = (ctypes.c_int * max(1, len(fds)))(*fds)

        def activate(requested, fds_out, count_out):  # the C signature, through ctypes
            self.calls.append(requested)
            if error:
                return error
            if requested != name:
                return errno.ENOENT
            fds_out[0] = ctypes.cast(self._array, ctypes.POINTER(ctypes.c_int))
            count_out[0] = len(fds)
            return 0

        def free(pointer):
            self.freed.append(pointer)

        self.launch_activate_socket = _ACTIVATE(activate)
        self.free = _FREE(free)


def test_launchd_fds_are_read_and_the_array_freed(short_dir):
    with _listening(short_dir / "l.sock") as original:
        first = _place([original])
        library = StandInLaunchd([first])
        assert activation.launchd_fds(library=library) == [first]
        assert library.calls == [b"Listeners"]
        assert library.freed == [ctypes.addressof(library._array)]
        assert not os.get_inheritable(first)
        chosen = activation._choose([(first, "Listeners")], "launchd")
        try:
            assert chosen.path == str(short_dir / "l.sock")
            assert chosen.manager == "launchd"
        finally:
            chosen.sock.close()


@pytest.mark.parametrize("error", [errno.ESRCH, errno.ENOENT])
def test_not_started_by_launchd_adopts_nothing(error):
    library = StandInLaunchd([], error=error)
    assert activation.launchd_fds(library=library) == []
    assert library.freed == []


def test_a_plist_without_our_socket_name_adopts_nothing():
    library = StandInLaunchd([7], name=b"Other")
    assert activation.launchd_fds(library=library) == []


def test_other_launchd_errors_stop_the_start():
    with pytest.raises(StartupError, match="launchd did not hand over"):
        activation.launchd_fds(library=StandInLaunchd([], error=errno.EALREADY))
