"""The platform seam: only ``nxuskitd.posix`` needs POSIX to import, and the peer it reports.

A port to Windows (docs/windows.md) replaces ``nxuskitd.posix``; every other module must
import where ``fcntl``, ``resource``, ``SIGHUP`` and ``pthread_sigmask`` do not exist.
The check runs in a fresh interpreter with those taken away (a meta path finder refuses
the modules; the signal names are deleted), then imports every module of the daemon.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from nxuskitd import system
from nxuskitd.peer import UNKNOWN

_WITHOUT_POSIX = r"""
import importlib, importlib.abc, json, pkgutil, signal, sys

BLOCKED = {"fcntl", "resource"}


class Refuse(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name in BLOCKED:
            raise ImportError(f"{name} does not exist on this platform")
        return None


assert not BLOCKED & set(sys.modules), "loaded before the test could block them"
sys.meta_path.insert(0, Refuse())
for name in ("SIGHUP", "pthread_sigmask", "SIG_BLOCK", "SIG_UNBLOCK"):
    delattr(signal, name)

import nxuskitd

imported, failed = [], {}
for info in pkgutil.walk_packages(nxuskitd.__path__, "nxuskitd."):
    try:
        importlib.import_module(info.name)
    except Exception as exc:
        failed[info.name] = f"{type(exc).__name__}: {exc}"
    else:
        imported.append(info.name)
print(json.dumps({"imported": imported, "failed": failed}))
"""


def test_only_the_posix_module_needs_posix_to_import() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _WITHOUT_POSIX],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["failed"] == {
        "nxuskitd.posix": "ImportError: fcntl does not exist on this platform"
    }
    # Every other module was imported: the seam holds for the whole daemon.
    for module in ("nxuskitd.lifecycle", "nxuskitd.server", "nxuskitd.system",
                   "nxuskitd.stores.file", "nxuskitd.oauth.lock", "nxuskitd.instance_lock",
                   "nxuskitd.__main__"):  # fmt: skip
        assert module in result["imported"]


def test_a_peer_of_this_user_is_named_with_its_pid_and_program() -> None:
    server, client = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    with server, client:
        peer = system.peer_of(server)
    assert peer.same_user
    assert peer.user == f"uid {os.geteuid()}"
    if sys.platform.startswith("linux"):
        # SO_PEERCRED gives the pid of whoever made the socket: this process here.
        assert (peer.pid, peer.label) == (os.getpid(), f"uid {os.geteuid()} pid {os.getpid()}")
        assert peer.executable == os.path.realpath(sys.executable)


@pytest.mark.parametrize("family", [socket.AF_UNIX, socket.AF_INET])
def test_a_socket_with_no_peer_is_an_unknown_one_and_refused(family: int) -> None:
    with socket.socket(family, socket.SOCK_STREAM) as unconnected:
        peer = system.peer_of(unconnected)
    assert peer == UNKNOWN
    assert not peer.same_user


@pytest.mark.parametrize("blocking", [False, True])
def test_a_file_lock_is_exclusive_between_open_files(tmp_path: Path, blocking: bool) -> None:
    path = tmp_path / "lock"
    first = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    second = os.open(path, os.O_RDWR)
    try:
        if blocking:
            system.lock_file(first)
        else:
            assert system.try_lock_file(first)
        assert not system.try_lock_file(second)  # held through the other open file
        os.close(first)  # closing releases it
        first = -1
        assert system.try_lock_file(second)
    finally:
        for fd in (first, second):
            if fd >= 0:
                os.close(fd)
