"""The audit log's file: opened private, appended to, rotated by size (writer thread only).

``AuditFile.write`` appends lines to ``audit.jsonl`` (``nxuskit.audit`` describes the
format): the directory is created 0700 and must be this user's and closed to others
(as the data directory is); the file is opened with ``O_APPEND | O_NOFOLLOW``, 0600.
Past ``max_bytes`` the file is rotated (``.1`` ... ``.generations``, the oldest dropped).
Before each write the path is compared with the open file (one ``stat``): a file that was
rotated by another daemon sharing the directory, moved or deleted is reopened, so
entries land in the file that ``audit.jsonl`` names.

Every failure raises ``AuditUnwritable`` with one line saying why; the caller decides
what that costs (a warning, never a refused request).
"""

from __future__ import annotations

import os
import stat

from nxuskit import trust
from nxuskit.errors import PermissionDenied

FIX = "set XDG_STATE_HOME to a directory of your own, or start nxuskitd with --no-audit"


class AuditUnwritable(Exception):
    """The audit log cannot be written now; the message says why (one line)."""


def make_directory(directory: str) -> None:
    """Create ``directory`` and its missing parents 0700, whatever the process's umask
    is at that moment (binding the socket narrows it to 0177 for a while, which would
    make a directory no one can enter)."""
    missing = []
    path = directory
    while not os.path.lexists(path):
        missing.append(path)
        path = os.path.dirname(path)
    for path in reversed(missing):
        try:
            os.mkdir(path, 0o700)
        except FileExistsError:
            continue  # made meanwhile: judged by the caller's check
        os.chmod(path, 0o700)


class AuditFile:
    """Appends to one audit log path, rotating it (not thread-safe: one writer thread)."""

    def __init__(self, path: str, max_bytes: int, generations: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.generations = generations
        self._fd: int | None = None
        self._torn = False  # the last write may have ended mid-line (a full disk)

    def write(self, lines: list[bytes]) -> None:
        """Append ``lines`` (each a whole line, newline included), rotating between two
        of them where the file would pass ``max_bytes``; none: just open the file.

        Raises AuditUnwritable.
        """
        try:
            self._ready(0)
            rest = lines
            while rest:
                size = self._ready(len(rest[0]))
                count = _fitting(rest, self.max_bytes - size)
                self._append(b"".join(rest[:count]))
                rest = rest[count:]
        except OSError as exc:
            self.close()  # reopen on the next write: the disk may have space again
            raise AuditUnwritable(f"cannot write {self.path}: {exc.strerror or exc}") from None
        except PermissionDenied as exc:
            self.close()
            raise AuditUnwritable(str(exc)) from None

    def _append(self, data: bytes) -> None:
        assert self._fd is not None
        if self._torn:
            data = b"\n" + data  # end the cut line, so this entry starts a line of its own
        view = memoryview(data)
        self._torn = True
        while view:
            view = view[os.write(self._fd, view) :]
        self._torn = False

    def close(self) -> None:
        """Close the file (the next write opens it again)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def _ready(self, incoming: int) -> int:
        """The size of the open file, reopened when the path names another one now,
        rotated first when ``incoming`` more bytes would take it past ``max_bytes``."""
        if self._fd is not None and not self._still_ours(self._fd):
            self.close()
        if self._fd is None:
            self._fd = self._open()
        size = os.fstat(self._fd).st_size
        if size and size + incoming > self.max_bytes:
            self._rotate()
            self.close()
            self._fd = self._open()
            size = 0
        return size

    def _still_ours(self, fd: int) -> bool:
        try:
            named = os.stat(self.path)
        except FileNotFoundError:
            return False
        mine = os.fstat(fd)
        return (named.st_dev, named.st_ino) == (mine.st_dev, mine.st_ino)

    def _open(self) -> int:
        directory = os.path.dirname(self.path)
        make_directory(directory)
        trust.check_private_directory(directory, fix=FIX)
        if os.path.lexists(self.path) and not stat.S_ISREG(os.lstat(self.path).st_mode):
            raise PermissionDenied(f"{self.path} is not a regular file: move it away")
        # O_NONBLOCK: a FIFO put in the file's place fails at once instead of holding the
        # writer until someone reads it (it makes no difference to a regular file).
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        fd = os.open(self.path, flags | os.O_NONBLOCK, 0o600)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.geteuid():
            os.close(fd)
            raise PermissionDenied(f"{self.path} is not a file of yours: move it away")
        if stat.S_IMODE(st.st_mode) & 0o077:
            os.fchmod(fd, 0o600)  # our own file in our own private directory: tighten it
        return fd

    def _rotate(self) -> None:
        """``path`` becomes ``path.1``, ``.1`` becomes ``.2``..., the oldest is dropped."""
        for number in range(self.generations, 0, -1):
            older = f"{self.path}.{number - 1}" if number > 1 else self.path
            try:
                os.replace(older, f"{self.path}.{number}")
            except FileNotFoundError:
                continue
        if self.generations == 0:
            os.unlink(self.path)


def _fitting(lines: list[bytes], room: int) -> int:
    """How many of the first ``lines`` fit in ``room`` bytes (one at least: a line longer
    than a whole file still goes in, alone)."""
    count, used = 0, 0
    for line in lines:
        used += len(line)
        if count and used > room:
            break
        count += 1
    return count
