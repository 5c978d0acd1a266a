"""The file store: one JSON document, 0600 in a 0700 directory, written atomically.

Layout of ``credentials.json``::

    {"format": 1, "credentials": {"openai": {"secret": "...", "updated_at": 1764370000.0}}}

A record's optional fields are left out when they hold their default (``auth_method``
defaults to "api_key", ``expires_at`` to null).

Every change takes an exclusive lock on ``credentials.lock`` (``system.lock_file``; two
daemons with different sockets may share the file), re-reads the document, writes a
temporary file, fsyncs it, renames it over the old one and fsyncs the directory: a crash
at any moment leaves each credential at its old or its new value. A corrupt file, or one
that other users could read, is an error naming the file and the fix; it is never reset.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
import threading
from collections.abc import Hashable, Iterator

import msgspec

from nxuskit.errors import NxuskitError, PermissionDenied, StoreUnavailable
from nxuskitd import data_directory, system
from nxuskitd.stores.base import Record, Store

FORMAT = 1
FILE_NAME = "credentials.json"


class _Document(msgspec.Struct, kw_only=True):
    format: int = FORMAT
    credentials: dict[str, Record] = msgspec.field(default_factory=dict)


_decoder = msgspec.json.Decoder(_Document)
_encoder = msgspec.json.Encoder()


def _identity(path: str, contents: bool) -> Hashable:
    """What ``lstat`` says of ``path``: which inode, its owner and mode, and (when
    ``contents``) its size and change times; the errno when it cannot be stat'ed."""
    try:
        st = os.lstat(path)
    except OSError as exc:
        return exc.errno
    identity = (st.st_dev, st.st_ino, st.st_mode, st.st_uid)
    return (*identity, st.st_size, st.st_mtime_ns, st.st_ctime_ns) if contents else identity


class FileStore(Store):
    """Credentials in ``<directory>/credentials.json``."""

    kind = "file"
    noun = "file store"

    def __init__(self, directory: str) -> None:
        self.directory = directory
        self.path = os.path.join(directory, FILE_NAME)
        self._lock_path = os.path.join(directory, "credentials.lock")
        self._mutex = threading.Lock()
        self._cached: tuple[tuple[int, int, int], _Document] | None = None

    @classmethod
    def open(cls, data_dir: str, timeout: float) -> FileStore:
        """The file store in ``data_dir`` (always possible: its checks run per call)."""
        return cls(data_dir)

    @property
    def description(self) -> str:
        return f"file {self.path}"

    def holds_credentials(self) -> bool:
        """True when credentials.json exists and lists any, or cannot be read (then it is
        kept, so that its error is seen rather than skipped)."""
        if not os.path.exists(self.path):
            return False
        try:
            return bool(self.names())
        except NxuskitError:
            return True

    # -- reading ---------------------------------------------------------------------

    def _ensure_directory(self) -> None:
        data_directory.ensure_private(self.directory)

    def _check_directory(self) -> None:
        data_directory.check_private(self.directory)

    def _read(self) -> _Document:
        """The current document (cached while the file's identity and mtime stay put)."""
        self._check_directory()
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        except FileNotFoundError:
            self._cached = None
            return _Document()
        except OSError as exc:
            raise StoreUnavailable(f"cannot open {self.path}: {exc.strerror}") from None
        try:
            st = os.fstat(fd)
            self._check_file(st)
            key = (st.st_ino, st.st_mtime_ns, st.st_size)
            if self._cached is not None and self._cached[0] == key:
                return self._cached[1]
            with os.fdopen(os.dup(fd), "rb") as handle:
                data = handle.read()
        finally:
            os.close(fd)
        try:
            document = _decoder.decode(data)
        except (msgspec.DecodeError, UnicodeDecodeError, RecursionError) as exc:
            cause = str(exc) if isinstance(exc, msgspec.DecodeError) else "not valid UTF-8 JSON"
            raise StoreUnavailable(
                f"{self.path} is corrupt ({cause}); nothing was changed: restore it from a "
                "backup or move it away to start an empty store"
            ) from None
        if document.format != FORMAT:
            raise StoreUnavailable(
                f"{self.path} has format {document.format}, this nxuskitd reads {FORMAT}: "
                "upgrade nxuskit"
            )
        self._cached = (key, document)
        return document

    def _read_fresh(self) -> _Document:
        """The document as it is on disk now (under the write lock: another daemon sharing
        the file may have written it within the stat cache's resolution)."""
        self._cached = None
        return self._read()

    def _check_file(self, st: os.stat_result) -> None:
        if not stat.S_ISREG(st.st_mode):
            raise StoreUnavailable(f"{self.path} is not a regular file: move it away")
        if st.st_uid != os.getuid():
            raise PermissionDenied(f"{self.path} belongs to uid {st.st_uid}, not to you")
        if st.st_mode & 0o077:
            raise PermissionDenied(
                f"{self.path} is readable by other users (mode {st.st_mode & 0o777:o}): "
                f"run chmod 600 {self.path}, and rotate the keys in it if others could read it"
            )

    # -- writing ---------------------------------------------------------------------

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        self._ensure_directory()
        with self._mutex:
            fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                system.lock_file(fd)
                yield
            finally:
                os.close(fd)

    def _sweep_temporaries(self) -> None:
        """Remove temp files a crashed writer left (they hold secrets); called under the
        write lock, so no live writer's file is among them."""
        prefix = os.path.basename(self.path) + "."
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.directory):
                if entry.name.startswith(prefix) and entry.name.endswith(".tmp"):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def _write(self, document: _Document) -> None:
        self._sweep_temporaries()
        data = _encoder.encode(document)
        temporary = f"{self.path}.{secrets.token_hex(6)}.tmp"
        try:
            fd = os.open(
                temporary,
                os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                0o600,
            )
            try:
                os.fchmod(fd, 0o600)
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.rename(temporary, self.path)
            directory = os.open(self.directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise StoreUnavailable(f"cannot write {self.path}: {exc.strerror}") from None
        self._cached = None

    # -- the Store interface ---------------------------------------------------------

    def fingerprint(self) -> Hashable:
        """Two ``lstat`` calls, no read: every write (ours or another daemon's) renames a
        new file into place, so the inode changes; a move, chmod or chown shows in the
        mode, owner or change time. The directory counts for its identity, mode and owner
        only (each write changes its times)."""
        return (_identity(self.directory, contents=False), _identity(self.path, contents=True))

    def get(self, provider: str) -> Record | None:
        with self._mutex:
            return self._read().credentials.get(provider)

    def names(self) -> list[str]:
        with self._mutex:
            return sorted(self._read().credentials)

    def set(self, provider: str, record: Record) -> None:
        with self._exclusive():
            document = self._read_fresh()
            credentials = dict(document.credentials)
            credentials[provider] = record
            self._write(_Document(credentials=credentials))

    def delete(self, provider: str) -> bool:
        with self._exclusive():
            document = self._read_fresh()
            if provider not in document.credentials:
                return False
            credentials = dict(document.credentials)
            del credentials[provider]
            self._write(_Document(credentials=credentials))
            return True
