"""Resolves answered from the client's memory: about a microsecond, never staler than asking.

Asked for it (``"reuse": true``), the daemon adds ``reuse`` to a resolve answer
(``nxuskit.answers.Reuse``): the generation the answer was computed under, for how long
at most, and an idle limit. A ``Client`` keeps such an answer and serves the next resolve
of the same name from memory while all of these hold:

- the daemon's generation file (``<socket>.generation``, mapped read-only at the first
  reuse: a process that resolves once never maps it) still holds that generation. The
  daemon moves it, before the call that caused it returns, on anything that may change
  an answer: set, remove, login, refresh, logout, lock, migration, a store read, a store
  or config.toml changed behind its back, its start and stop. The file is trusted only
  as the socket is: opened without following a link, in the checked private socket
  directory, a regular file of this user that nobody else may read or write
  (``map_generation``); otherwise nothing is reused;
- the time limits hold: ``seconds`` from the request, ``idle`` since the last reuse;
- the provider's environment variable is still unset: it is read on every call, so a
  variable set now wins at once. An explicit ``api_key`` never touches the cache.

Answers from the environment and for providers that need no credential are kept too
(they depend on the registry only). What no generation announces is looked at every
``CHECK_INTERVAL`` seconds: config.toml (one ``stat``, as ``registry.load`` does on
every call without the cache), the socket path (``NXUSKIT_SOCKET``,
``XDG_RUNTIME_DIR``), whether the generation file is still the one mapped, and
``NXUSKIT_CLIENT_CACHE`` (0, false, no or off turns the cache off); any change empties
the cache. A miss asks the daemon (and reloads the registry) exactly as before.
"""

from __future__ import annotations

import os
import stat
import struct
import time

from nxuskit import paths, protocol, registry, trust
from nxuskit.errors import PermissionDenied

TYPE_CHECKING = False
if TYPE_CHECKING:
    import mmap
    from collections.abc import Callable

    from nxuskit.answers import Resolution
    from nxuskit.providers import ProviderSpec
    from nxuskit.registry import Registry

CHECK_INTERVAL = 0.1
"""Seconds between looks at what no generation announces (config.toml, the socket path,
the generation file's identity, NXUSKIT_CLIENT_CACHE)."""

HEADER = b"NXGN" + struct.pack("<I", 1)
"""The generation file's first 8 bytes: magic and format (docs/protocol.md)."""
SIZE = 16
MAX_ENTRIES = 256
"""Names kept at most (each spelling of a name is one): past that the cache starts over."""
_NEVER = float("inf")
_monotonic = time.monotonic
# The environment is read on every call, so it is read where os.environ keeps it: a
# missing name through os.environ.get costs a KeyError (~0.75 us), a dict lookup ~0.04 us.
# Where os.environ is not CPython's _Environ, the public mapping is read instead.
_data = getattr(os.environ, "_data", None)
_encode_key = getattr(os.environ, "encodekey", None)
_decode_value = getattr(os.environ, "decodevalue", None)
_RAW = isinstance(_data, dict) and callable(_encode_key) and callable(_decode_value)


def _public_get(key: object) -> object:
    return os.environ.get(key) if isinstance(key, str) else None


_env_raw: Callable[[object], object] = _data.get if _RAW else _public_get  # type: ignore[union-attr]
"""The raw value of a variable (its key from ``_env_key``), or None."""


def _env_key(name: str) -> object:
    """How the variable ``name`` is looked up by ``_env_raw``."""
    return _encode_key(name) if _RAW else name  # type: ignore[misc]


def _env_text(raw: object) -> str:
    """A raw value as os.environ gives it."""
    return _decode_value(raw) if _RAW else str(raw)  # type: ignore[misc]


def enabled() -> bool:
    """Whether resolves may be reused (``NXUSKIT_CLIENT_CACHE`` is not 0/false/no/off)."""
    value = os.environ.get("NXUSKIT_CLIENT_CACHE", "1").strip().lower()
    return value not in ("0", "false", "no", "off")


def map_generation(path: str) -> tuple[mmap.mmap, tuple[int, int]] | None:
    """The generation file at ``path`` mapped read-only, with its (device, inode); None
    when it is missing or cannot be trusted. Its directory must be the socket's private
    directory (``trust.check_private_directory``: the chain above it was checked when
    this client connected, and only this user or root can change what is in it), and the
    file, opened without following a link, must be a regular file of this user that
    nobody else may read or write, in the documented format."""
    try:
        trust.check_private_directory(os.path.dirname(path))
    except PermissionDenied:
        return None
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
    try:
        descriptor = os.open(path, flags)
    except OSError:
        return None
    try:
        st = os.fstat(descriptor)
        if (
            not stat.S_ISREG(st.st_mode)
            or st.st_uid != os.geteuid()
            or st.st_mode & 0o077
            or st.st_size < SIZE
        ):
            return None
        import mmap

        view = mmap.mmap(descriptor, SIZE, mmap.MAP_SHARED, mmap.PROT_READ)
    except (OSError, ValueError):
        return None
    finally:
        os.close(descriptor)
    if view[:8] != HEADER:
        return None
    return view, (st.st_dev, st.st_ino)


class _Entry:
    """What is kept for one name as the caller spelled it."""

    __slots__ = ("env", "env_answer", "env_secret", "env_value", "fixed", "generation", "idle",
                 "secret", "stored", "until", "used")  # fmt: skip

    def __init__(self, spec: ProviderSpec) -> None:
        self.env = None if spec.env is None else _env_key(spec.env)
        self.fixed: Resolution | None = None  # a provider that needs no credential
        self.env_value: object = None  # raw, as in _raw_environ
        self.env_answer: Resolution | None = None
        self.env_secret: str | None = None
        self.stored: Resolution | None = None  # the daemon's answer, and its limits:
        self.secret: str | None = None  # stored.secret as kept: a caller may overwrite it
        self.generation = b""
        self.until = 0.0
        self.idle = _NEVER
        self.used = 0.0


class ReuseCache:
    """A Client's reusable resolves, by the provider name as the caller wrote it.

    ``socket_path`` gives the client's socket path now. Safe for threads: entries are
    replaced whole, and a reader that meets a half-made change just asks the daemon.
    """

    def __init__(self, socket_path: Callable[[], str]) -> None:
        self._socket_path = socket_path
        self._entries: dict[str, _Entry] = {}
        self._registry: Registry | None = None
        self._path = ""
        self._view: mmap.mmap | None = None
        self._identity: tuple[int, int] | None = None
        self._check_at = 0.0
        self._retry_map_at = 0.0  # after a generation file that could not be trusted

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, provider: str) -> Resolution | None:
        """The kept answer for ``provider`` if it still holds, else None (ask the daemon)."""
        try:
            entry = self._entries.get(provider)
        except TypeError:  # unhashable, so no name: the registry will say what is wrong
            return None
        if entry is None:
            return None
        now = _monotonic()
        if now >= self._check_at and not self._recheck(now):
            return None
        if entry.fixed is not None:
            return entry.fixed
        if entry.env is not None:
            value = _env_raw(entry.env)
            if value:
                answer = entry.env_answer
                if answer is None or value != entry.env_value:
                    return None
                return answer if answer.secret is entry.env_secret else None
        stored, view = entry.stored, self._view
        if stored is None:
            return None
        if view is None:  # mapped at the first reuse: a process that resolves once never maps
            view = self._map(now)
            if view is None:
                return None
        if (
            now >= entry.until
            or now - entry.used >= entry.idle
            or view[8:16] != entry.generation
            or stored.secret is not entry.secret
        ):
            return None
        entry.used = now
        return stored

    def keep(self, provider: str, reg: Registry, spec: ProviderSpec, answer: Resolution,
             sent: float) -> None:  # fmt: skip
        """Keep ``answer`` to ``provider`` (found in ``reg`` as ``spec``; the request, if
        any, was sent at ``sent``, a ``time.monotonic()`` time) when it may be reused."""
        if not enabled():
            self.clear()
            return
        path = self._socket_path()
        if reg is not self._registry or path != self._path:
            self.clear()
            self._registry, self._path = reg, path
            self._check_at = sent + CHECK_INTERVAL
        entry = self._entries.get(provider) or _Entry(spec)
        if not spec.requires_auth:
            entry.fixed = answer
        elif answer.source == protocol.SOURCE_ENV:
            raw = _env_raw(entry.env)
            if not raw or _env_text(raw) != answer.secret:
                return  # changed meanwhile (another thread): keep nothing
            entry.env_value, entry.env_answer, entry.env_secret = raw, answer, answer.secret
        elif answer.reuse is not None:
            reuse = answer.reuse
            entry.generation = struct.pack("<Q", reuse.generation)
            entry.until = sent + reuse.seconds
            entry.idle = _NEVER if reuse.idle is None else reuse.idle
            entry.used = sent
            entry.secret = answer.secret
            entry.stored = answer
        else:
            return
        if len(self._entries) >= MAX_ENTRIES and provider not in self._entries:
            self._entries = {}
        self._entries[provider] = entry

    def _map(self, now: float) -> mmap.mmap | None:
        """The generation file of this cache's socket, mapped now; None when it cannot be
        (tried again after CHECK_INTERVAL)."""
        if now < self._retry_map_at:
            return None
        found = map_generation(paths.generation_path(self._path))
        if found is None:
            self._retry_map_at = now + CHECK_INTERVAL
            return None
        self._view, self._identity = found
        return self._view

    def _recheck(self, now: float) -> bool:
        """Look again at what no generation announces; False (and empty) on a change."""
        self._check_at = now + CHECK_INTERVAL
        same = (
            enabled()
            and self._socket_path() == self._path
            and registry.load() is self._registry
            and self._same_file()
        )
        if not same:
            self.clear()
        return same

    def _same_file(self) -> bool:
        if self._view is None:
            return True
        try:
            st = os.stat(paths.generation_path(self._path))
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def clear(self) -> None:
        """Forget every kept answer and let go of the generation file."""
        self._entries = {}
        self._registry = None
        # Not closed: a reader in another thread may hold it; it is unmapped when unused.
        self._view = self._identity = None
        self._retry_map_at = 0.0
