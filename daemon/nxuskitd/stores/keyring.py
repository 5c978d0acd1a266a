"""The keyring store: credentials in the OS credential store through ``keyring``.

Record format (version 1), under the service name ``nxuskit``; every stored value is
ASCII JSON, so a chunk of N characters is N bytes in UTF-8 and 2N in UTF-16:

- user name ``<provider>`` (``openai``) holds the record itself when its JSON text is at
  most ``CHUNK_CHARS`` (1,000) characters::

      {"nxuskit":1,"record":{"secret":"sk-...","auth_method":"api_key","updated_at":1764370000.0}}

- a longer record (an OAuth token record can be) is cut into chunks of at most 1,000
  characters, stored under ``<provider>:<id>:0``, ``<provider>:<id>:1``, ...; the
  provider's own entry then holds a header naming them::

      {"nxuskit":1,"chunks":3,"id":"5f0c9a1e","sha256":"<hex digest of the whole text>"}

  New chunks are written under a fresh ``id`` before the header that names them, and the
  old ones are deleted after it, so a crash leaves the old or the new record, never a
  mix (at worst some unreferenced chunks). The digest catches a damaged entry.
- user name ``:index`` holds the providers that have a record, so ``names()`` reads one
  entry instead of every secret: ``{"nxuskit":1,"providers":["claude","openai"]}``
  (chunked the same way when long).

Provider names never contain ``:``, so these names cannot collide. Windows Credential
Manager holds at most 2,560 bytes per entry (UTF-16 there: 1,280 characters), the
smallest limit among the OS stores, hence 1,000. A value that is not a JSON object (set
by hand with ``keyring set nxuskit openai``) is read as a bare API key.

Errors become ``StoreUnavailable`` naming the cause; a locked keyring says so and how to
unlock it. The Secret Service backend opens a fresh D-Bus connection per call, so when
the keyring daemon dies and comes back, the next call simply works again.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import threading
from collections.abc import Hashable
from typing import Any, Protocol

import msgspec

from nxuskit.errors import StoreUnavailable
from nxuskitd.stores.base import Record, Store

SERVICE = "nxuskit"
FORMAT = 1
CHUNK_CHARS = 1000
INDEX = ":index"


class Backend(Protocol):
    """What the store needs of a keyring backend (``keyring.backend.KeyringBackend``)."""

    def get_password(self, service: str, username: str) -> str | None: ...
    def set_password(self, service: str, username: str, password: str) -> None: ...
    def delete_password(self, service: str, username: str) -> None: ...


class _Damaged(StoreUnavailable):
    """An entry that is not a valid nxuskit record (still ``store_unavailable`` on the wire)."""


def _cause(exc: Exception, *hidden: str | None) -> str:
    """One line about ``exc`` that never repeats any of the ``hidden`` values."""
    text = (exc.strerror if isinstance(exc, OSError) else None) or str(exc)
    text = " ".join(text.split())[:200]
    if not text or any(value and value in text for value in hidden):
        return type(exc).__name__
    return f"{type(exc).__name__}: {text}"


class KeyringStore(Store):
    """Credentials in an OS keyring backend, in the documented record format."""

    kind = "keyring"
    noun = "OS keyring"

    def __init__(
        self, backend: Backend, description: str, service: str = SERVICE, found: str = ""
    ) -> None:
        self.backend = backend
        self.service = service
        self.found = found
        self._description = description
        self._writing = threading.Lock()  # read-modify-write of the index and chunks

    @classmethod
    def open(cls, data_dir: str, timeout: float) -> KeyringStore:
        """The best real OS keyring here (``keyring_backend``), probed within ``timeout``.

        Raises StoreUnavailable with the reason none is usable.
        """
        from nxuskitd.stores import keyring_backend

        choice = keyring_backend.usable_backend(timeout)
        if choice.backend is None:
            raise StoreUnavailable(choice.reason)
        return cls(choice.backend, choice.description, found=choice.reason)

    @property
    def description(self) -> str:
        return self._description

    # -- one keyring call, its errors in our words ----------------------------------

    def _call(
        self, method: str, username: str, value: str | None = None, hidden: tuple[str, ...] = ()
    ) -> Any:
        """``get``, ``set`` (to ``value``) or ``delete`` one entry; errors never show
        ``value`` or any of the ``hidden`` values."""
        from keyring.errors import KeyringLocked, PasswordDeleteError

        name = self._description.removesuffix(" (keyring)")
        try:
            if method == "get":
                return self.backend.get_password(self.service, username)
            if method == "set":
                assert value is not None
                return self.backend.set_password(self.service, username, value)
            try:
                self.backend.delete_password(self.service, username)
            except PasswordDeleteError:
                return False
            else:
                return True
        except KeyringLocked:
            raise StoreUnavailable(
                f"the OS keyring ({name}) is locked and no unlock prompt was answered: "
                "unlock it (log in to your desktop session, or see Troubleshooting in the "
                "README for headless and SSH sessions), then retry"
            ) from None
        except Exception as exc:
            raise StoreUnavailable(
                f"the OS keyring ({name}) failed: {_cause(exc, value, *hidden)}; check that it "
                "runs and is unlocked, or start nxuskitd with --store file"
            ) from None

    def _damaged(self, username: str, why: str) -> StoreUnavailable:
        where = f"the keyring entry {self.service}/{username} is damaged ({why})"
        if username == INDEX:
            return _Damaged(
                f"{where}: delete it with your keyring's tool (e.g. secret-tool clear "
                f"service {self.service} username {INDEX}) and set your credentials again"
            )
        provider = username.split(":", maxsplit=1)[0]
        return _Damaged(
            f"{where}; nothing was changed: remove it (nxuskit-cli provider remove "
            f"{provider}) and set it again"
        )

    # -- values of any length, chunked -----------------------------------------------

    def _header(self, username: str) -> tuple[str | None, dict[str, Any] | None]:
        """The raw value at ``username`` and its parsed JSON object (None: not JSON)."""
        raw = self._call("get", username)
        if raw is None or not raw.lstrip().startswith("{"):
            return raw, None
        try:
            value = json.loads(raw)
        except ValueError:
            raise self._damaged(username, "not valid JSON") from None
        if not isinstance(value, dict) or value.get("nxuskit") != FORMAT:
            raise self._damaged(username, f"not an nxuskit record of format {FORMAT}")
        return raw, value

    def _read(self, username: str, key: str) -> tuple[Any, dict[str, Any] | None]:
        """The payload kept under ``key`` at ``username`` (joined from its chunks), or
        None; and the entry's header (what a later ``_write`` replaces)."""
        raw, header = self._header(username)
        if raw is None:
            return None, None
        if header is None:
            return {"secret": raw.strip()}, None  # a bare value, set by hand
        if "chunks" not in header:
            return header.get(key), header
        count, chunk_id = header.get("chunks"), header.get("id")
        if not isinstance(count, int) or not isinstance(chunk_id, str) or count < 1:
            raise self._damaged(username, "a bad chunk header")
        parts = []
        for number in range(count):
            part = self._call("get", f"{username}:{chunk_id}:{number}")
            if part is None:
                raise self._damaged(username, f"chunk {number} of {count} is missing")
            parts.append(part)
        text = "".join(parts)
        if hashlib.sha256(text.encode()).hexdigest() != header.get("sha256"):
            raise self._damaged(username, "its chunks do not match their digest")
        return json.loads(text), header

    def _chunks_of(self, header: dict[str, Any] | None) -> list[str]:
        if header is None or "chunks" not in header:
            return []
        count, chunk_id = header.get("chunks"), header.get("id")
        if not isinstance(count, int) or not isinstance(chunk_id, str):
            return []
        return [f"{chunk_id}:{number}" for number in range(count)]

    def _old_header(self, username: str) -> dict[str, Any] | None:
        try:
            return self._header(username)[1]
        except _Damaged:
            return None  # a damaged entry is replaced; its chunks may stay behind

    def _write(
        self,
        username: str,
        key: str,
        payload: Any,
        old: dict[str, Any] | None,
        hidden: tuple[str, ...] = (),
    ) -> None:
        """Store ``payload`` at ``username`` as ``{"nxuskit":1, key: payload}``, chunked
        when long, in place of the entry whose header was ``old``; the ``hidden`` values
        are kept out of error messages."""
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
        inline = json.dumps({"nxuskit": FORMAT, key: payload}, separators=(",", ":"))
        if len(inline) <= CHUNK_CHARS:
            self._call("set", username, inline, hidden)
        else:
            chunk_id = secrets.token_hex(4)
            for number, start in enumerate(range(0, len(text), CHUNK_CHARS)):
                part = text[start : start + CHUNK_CHARS]
                self._call("set", f"{username}:{chunk_id}:{number}", part, hidden)
            digest = hashlib.sha256(text.encode()).hexdigest()
            count = -(-len(text) // CHUNK_CHARS)
            header = {"nxuskit": FORMAT, "chunks": count, "id": chunk_id, "sha256": digest}
            self._call("set", username, json.dumps(header, separators=(",", ":")))
        for suffix in self._chunks_of(old):
            self._call("delete", f"{username}:{suffix}")

    def _erase(self, username: str, old: dict[str, Any] | None) -> bool:
        existed = bool(self._call("delete", username))
        for suffix in self._chunks_of(old):
            self._call("delete", f"{username}:{suffix}")
        return existed

    # -- the index -------------------------------------------------------------------

    def _index(self) -> tuple[list[str], dict[str, Any] | None]:
        providers, header = self._read(INDEX, "providers")
        if providers is None:
            return [], header
        if not isinstance(providers, list) or not all(isinstance(p, str) for p in providers):
            raise self._damaged(INDEX, "not a list of providers")
        return sorted(set(providers)), header

    def _set_index(self, providers: list[str], old: dict[str, Any] | None) -> None:
        if providers:
            self._write(INDEX, "providers", sorted(set(providers)), old)
        else:
            self._erase(INDEX, old)

    # -- the Store interface ---------------------------------------------------------

    def fingerprint(self) -> Hashable:
        """None: a keyring offers no cheap change check (even the index is a D-Bus round
        trip, and may prompt). An entry changed with another tool (``secret-tool``,
        ``keyring set``) is seen once the daemon's cached copy expires (``--cache-idle``,
        ``--cache-max``) or after ``nxuskit-cli daemon lock``."""
        return None

    def get(self, provider: str) -> Record | None:
        payload, _ = self._read(provider, "record")
        if payload is None:
            return None
        try:
            return msgspec.convert(payload, Record)
        except msgspec.ValidationError as exc:
            raise self._damaged(provider, f"a bad record: {exc}") from None

    def names(self) -> list[str]:
        return self._index()[0]

    def set(self, provider: str, record: Record) -> None:
        with self._writing:
            values = (record.secret, getattr(record, "refresh_token", None))
            hidden = tuple(value for value in values if value)
            fields = msgspec.structs.asdict(record)
            payload = {key: value for key, value in fields.items() if value is not None}
            old = self._old_header(provider)
            self._write(provider, "record", msgspec.to_builtins(payload), old, hidden)
            names, index = self._index()
            if provider not in names:
                self._set_index([*names, provider], index)

    def delete(self, provider: str) -> bool:
        with self._writing:
            existed = self._erase(provider, self._old_header(provider))
            names, index = self._index()
            if provider in names:
                self._set_index([name for name in names if name != provider], index)
                existed = True
            return existed
