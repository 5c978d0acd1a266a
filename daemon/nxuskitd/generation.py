"""The generation file: how clients know, without asking, that a cached resolve still holds.

The daemon keeps a 16-byte file beside its socket (``<socket>.generation``, 0600 in the
private socket directory) and moves the number in it whenever what a resolve would
answer may have changed: a set, remove, login, refresh, logout, lock or migration, a
store changed behind its back, a store read, a config.toml change, its own start and
stop. Each move is written before the call that caused it returns. A client maps the
file read-only and reuses an answer only while the number is the one the answer came
with (``nxuskit.reuse``; the format is in docs/protocol.md, "The generation file")::

    bytes 0-3   b"NXGN"                      magic
    bytes 4-7   1, little-endian uint32      format
    bytes 8-15  the generation, little-endian uint64, written as one aligned store

One daemon serves a socket (the instance lock), so the file has one writer and a move is
a plain increment. Each start picks a random number below 2**52 (so that JSON carries it
exactly), so a reused file never returns to a number an old answer carries. The file is
never unlinked or shrunk: a client may have it mapped, and reading past the end of a
mapping kills the reader.
"""

from __future__ import annotations

import logging
import mmap
import os
import secrets
import stat
import struct

from nxuskit import paths
from nxuskitd.errors import StartupError

log = logging.getLogger(__name__)

MAGIC = b"NXGN"
FORMAT = 1
SIZE = 16
OFFSET = 8
LIMIT = 2**53  # JSON numbers are exact below this in every client language
_HEADER = struct.Struct("<4sI")
_VALUE = struct.Struct("<Q")


class Generation:
    """A generation number that only this process moves (``bump``); ``value`` is the
    current one. Without a path it lives in memory only (an embedded daemon: no socket
    file, so no client can map it)."""

    def __init__(self, path: str | None = None) -> None:
        self.path = path
        self.value = 1 + secrets.randbelow(2**52)
        self._map: mmap.mmap | None = None
        if path is not None:
            self._map = _map_file(path)
            self._map[:OFFSET] = _HEADER.pack(MAGIC, FORMAT)
            self._write()

    @property
    def published(self) -> bool:
        """Whether clients can see this generation (it has a file)."""
        return self._map is not None

    def bump(self) -> None:
        """Move the generation: every answer handed out before is no longer reused."""
        value = self.value + 1
        self.value = value if value < LIMIT else 1
        if self._map is not None:
            self._write()

    def _write(self) -> None:
        assert self._map is not None
        # One aligned 8-byte copy: readers see the old or the new number, never a mix.
        _VALUE.pack_into(self._map, OFFSET, self.value)

    def close(self) -> None:
        """Move the generation one last time (clients stop reusing what this daemon said)
        and let go of the file, which stays for the next daemon."""
        if self._map is not None:
            self.bump()
            self._map.close()
            self._map = None


def open_generation(socket_path: str) -> Generation:
    """The generation file beside ``socket_path`` (whose directory the daemon has made
    private and holds the instance lock of). Raises StartupError when it cannot be made."""
    try:
        return Generation(paths.generation_path(socket_path))
    except OSError as exc:
        path = paths.generation_path(socket_path)
        raise StartupError(f"cannot create {path}: {exc.strerror}") from None


def _map_file(path: str) -> mmap.mmap:
    """``path`` mapped for writing: a regular file of ours, 0600, at least SIZE bytes.
    Anything else there (another owner's file, a link, a FIFO) is replaced."""
    flags = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        fd = os.open(path, flags, 0o600)
    except OSError:  # a symlink (ELOOP) or something we cannot open: put a file there
        os.unlink(path)
        fd = os.open(path, flags | os.O_EXCL, 0o600)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            os.close(fd)
            log.warning("replacing %s: it was not a file of this user", path)
            os.unlink(path)
            fd = os.open(path, flags | os.O_EXCL, 0o600)
            st = os.fstat(fd)
        if stat.S_IMODE(st.st_mode) != 0o600:
            os.fchmod(fd, 0o600)
        if st.st_size < SIZE:
            os.ftruncate(fd, SIZE)  # grown, never shrunk: a shorter mapping would fault
        return mmap.mmap(fd, SIZE, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
    finally:
        os.close(fd)
