"""What each method of nxuskitd answers: every result shape, defined once for both sides.

The daemon builds these objects and sends ``to_wire()``; the client reads a result with
``from_wire()``, which checks every field's type and refuses an answer that lacks a
required one (``ProtocolError``) instead of filling in a default. Fields a newer daemon
adds and this client does not know are ignored, so adding a field needs no version bump.
``RESULTS`` maps each method of ``nxuskit.protocol.PARAMS`` to its shape.

A shape is a class whose annotated attributes are its wire fields, in wire order; a field
with a default may be absent on the wire. Standard library only, like the whole client.
"""

from __future__ import annotations

from nxuskit import protocol
from nxuskit.errors import ProtocolError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, Self, dataclass_transform
else:

    def dataclass_transform(**_options: object) -> object:
        """Typing only (PEP 681): tells mypy that subclasses get a fields ``__init__``."""
        return lambda cls: cls


_REQUIRED = object()
_SHAPES: dict[str, type[Answer]] = {}


class _Bad(Exception):
    """A value that does not fit its field's type."""


class _Shape(type):
    """Turns annotated attributes into slots (no ``__dict__`` to dump a secret from) and
    records every field with its default, inherited ones first."""

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> _Shape:
        own = [field for field in namespace.get("__annotations__", {}) if field[0] != "_"]
        defaults = {field: namespace.pop(field) for field in own if field in namespace}
        namespace["__slots__"] = tuple(own)
        cls = super().__new__(mcs, name, bases, namespace)
        inherited: tuple[tuple[str, Any], ...] = getattr(cls, "_fields", ())
        fields = inherited + tuple((field, defaults.get(field, _REQUIRED)) for field in own)
        type.__setattr__(cls, "_fields", fields)
        type.__setattr__(cls, "_checks", None)
        _SHAPES[name] = cls  # type: ignore[assignment]
        return cls


@dataclass_transform()
class Answer(metaclass=_Shape):
    """Base of the result shapes (see the module docstring)."""

    _fields: ClassVar[tuple[tuple[str, Any], ...]] = ()
    """(name, default or _REQUIRED) of every field, in wire order."""
    _wire_names: ClassVar[dict[str, str]] = {}
    """Attribute name -> wire name, where they differ (``from`` is a Python keyword)."""
    _hidden: ClassVar[frozenset[str]] = frozenset()
    """Fields whose value repr() shows as '***' (secrets)."""
    _checks: ClassVar[tuple[Callable[[object], object], ...] | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        fields = self._fields
        if len(args) > len(fields):
            raise TypeError(f"{type(self).__name__} takes {len(fields)} fields")
        for index, (name, default) in enumerate(fields):
            if index < len(args):
                value = args[index]
            elif name in kwargs:
                value = kwargs.pop(name)
            elif default is _REQUIRED:
                raise TypeError(f"{type(self).__name__} needs {name}")
            else:
                value = list(default) if isinstance(default, list) else default
            setattr(self, name, value)
        if kwargs:
            raise TypeError(f"{type(self).__name__} has no field {', '.join(kwargs)}")

    def to_wire(self) -> dict[str, Any]:
        """The JSON object for this answer."""
        names = self._wire_names
        return {names.get(name, name): _encode(getattr(self, name)) for name, _ in self._fields}

    @classmethod
    def from_wire(cls, value: object, method: str = "") -> Self:
        """Decode a daemon's result; ProtocolError when it does not fit this shape."""
        where = f"the daemon's answer to {method}" if method else f"a {cls.__name__} answer"
        if not isinstance(value, dict):
            raise ProtocolError(f"{where} is not a JSON object")
        checks = cls._checks if cls._checks is not None else cls._compile()
        values = {}
        names = cls._wire_names
        for (name, default), check in zip(cls._fields, checks, strict=True):
            raw = value.get(names.get(name, name), _REQUIRED)
            if raw is _REQUIRED:
                if default is _REQUIRED:
                    raise ProtocolError(f"{where} lacks its {names.get(name, name)!r} field")
                continue
            try:
                values[name] = check(raw)
            except _Bad:
                raise ProtocolError(f"{where} has a malformed {names.get(name, name)!r}") from None
        return cls(**values)

    @classmethod
    def _compile(cls) -> tuple[Callable[[object], object], ...]:
        hints: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            hints.update(vars(klass).get("__annotations__", {}))
        cls._checks = tuple(_checker(hints[name]) for name, _ in cls._fields)
        return cls._checks

    def get(self, name: str, default: Any = None) -> Any:
        """Read a field by its wire name, like the dict answers of earlier versions."""
        for attribute, _ in self._fields:
            if self._wire_names.get(attribute, attribute) == name:
                return getattr(self, attribute)
        return default

    def __getitem__(self, name: str) -> Any:
        missing = object()
        value = self.get(name, missing)
        if value is missing:
            raise KeyError(name)
        return value

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, name) == getattr(other, name) for name, _ in self._fields)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        shown = []
        for name, _ in self._fields:
            value = getattr(self, name)
            text = "'***'" if name in self._hidden and value is not None else repr(value)
            shown.append(f"{name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"


def _encode(value: object) -> object:
    if isinstance(value, Answer):
        return value.to_wire()
    if isinstance(value, list):
        return [_encode(item) for item in value]
    if isinstance(value, dict):
        return {key: _encode(item) for key, item in value.items()}
    return value


def _split_union(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(text):
        depth += char == "["
        depth -= char == "]"
        if char == "|" and depth == 0:
            parts.append(text[start:index].strip())
            start = index + 1
    parts.append(text[start:].strip())
    return parts


def _checker(text: str) -> Callable[[object], object]:
    """A function that checks (and, for a nested shape, decodes) one field's value."""
    alternatives = _split_union(text)
    if len(alternatives) > 1:
        checks = [_checker(part) for part in alternatives]

        def union(value: object) -> object:
            for check in checks:
                try:
                    return check(value)
                except _Bad:
                    continue
            raise _Bad

        return union
    return _simple(text.strip())


def _simple(text: str) -> Callable[[object], object]:
    if text.startswith("list[") and text.endswith("]"):
        item = _checker(text[5:-1])

        def listed(value: object) -> object:
            if not isinstance(value, list):
                raise _Bad
            return [item(entry) for entry in value]

        return listed
    if text.startswith("dict[str,") and text.endswith("]"):
        item = _checker(text[9:-1])

        def mapped(value: object) -> object:
            if not isinstance(value, dict):
                raise _Bad
            return {key: item(entry) for key, entry in value.items()}

        return mapped
    simple = _SIMPLE.get(text)
    if simple is not None:
        return simple
    return _nested(text)


def _nested(name: str) -> Callable[[object], object]:
    def nested(value: object) -> object:
        shape = _SHAPES[name]
        try:
            return shape.from_wire(value)
        except ProtocolError:
            raise _Bad from None

    return nested


def _is(kind: type) -> Callable[[object], object]:
    def check(value: object) -> object:
        if type(value) is not kind:
            raise _Bad
        return value

    return check


def _number(value: object) -> object:
    if type(value) not in (int, float):
        raise _Bad
    return float(value)  # type: ignore[arg-type]


def _none(value: object) -> object:
    if value is not None:
        raise _Bad
    return None


_SIMPLE: dict[str, Callable[[object], object]] = {
    "str": _is(str),
    "int": _is(int),
    "bool": _is(bool),
    "float": _number,
    "None": _none,
    "Any": lambda value: value,
}


# -- the shapes ------------------------------------------------------------------------


class StoreInfo(Answer):
    """The daemon's store: ``kind`` ("keyring" or "file"), a human ``description``
    ("Secret Service (keyring)", "file /home/.../credentials.json") and the ``reason`` it
    was chosen ("no OS keyring found: ...")."""

    kind: str
    description: str
    reason: str

    @property
    def summary(self) -> str:
        """One line for people: "Secret Service (keyring)" or "file, no OS keyring found: ..."."""
        if self.kind == "file":
            return f"file, {self.reason}" if self.reason else "file"
        return self.description or self.kind

    def to_dict(self) -> dict[str, Any]:
        """The store as plain data (the wire's shape)."""
        return self.to_wire()


class CacheInfo(Answer):
    """The daemon's session cache: its size, limits (seconds, None for none) and counters."""

    entries: int
    idle_timeout: float | None
    max_lifetime: float | None
    store_reads: int


class Hello(Answer):
    """``daemon.hello``: who answers, and which protocol it speaks."""

    protocol: int
    version: str
    pid: int
    store: StoreInfo


class Logins(Answer):
    """The daemon's OAuth logins: how many are ``running``, and how many ``finished``
    outcomes it keeps for ``auth.login_wait``."""

    running: int
    finished: int


class DaemonStatus(Hello):
    """``daemon.status``: hello, plus where it serves, how it was started, and its load."""

    socket: str
    started_by: str
    uptime: float
    connections: int
    cache: CacheInfo | None = None
    idle_exit: float | None = None
    logins: Logins | None = None


class Resolution(Answer):
    """A resolved credential: ``secret`` and where it came from (``source``).

    ``source`` is "explicit", "env", "store" or "oauth" (None for a provider that needs
    no credential, whose ``secret`` is None too). ``auth_method`` is "api_key", "oauth"
    or "none"; ``expires_at`` is a Unix time for expiring tokens, else None. Its repr
    never shows the secret.
    """

    _hidden = frozenset(("secret",))
    provider: str
    secret: str | None
    source: str | None
    auth_method: str
    expires_at: float | None = None

    def __str__(self) -> str:
        return repr(self)


class AuthStatus(Answer):
    """Whether a provider is usable, from which source, with which methods (no secret).

    ``status`` is "authenticated", "not_authenticated" or "not_required", or
    "config_invalid" for a wrong config.toml entry (then ``error`` says why); ``source``
    is the source that would win a resolve now, or None.
    """

    provider: str
    status: str
    source: str | None
    auth_methods: list[str]
    auth_method: str | None = None
    expires_at: float | None = None
    display_name: str | None = None
    error: str | None = None

    @property
    def authenticated(self) -> bool:
        """True when a resolve would succeed (or no credential is needed)."""
        return self.status in (protocol.AUTHENTICATED, protocol.NOT_REQUIRED)

    def to_dict(self) -> dict[str, Any]:
        """The status as plain data (the CLI's ``--json`` shape)."""
        wire = self.to_wire()
        del wire["display_name"]
        return wire


class Statuses(Answer):
    """``auth.status``: one entry per provider asked about, the store, and the names of
    credentials stored for providers the registry no longer knows (absent from older
    daemons)."""

    providers: list[AuthStatus]
    store: StoreInfo
    orphans: list[str] = []  # noqa: RUF012 - copied per instance by Answer.__init__


class Stored(Answer):
    """``auth.set_credential``: the key is stored (the answer never echoes it), and
    whether it replaced a stored credential (None from older daemons, which do not say)."""

    provider: str
    stored: bool
    store: str
    replaced: bool | None = None


class Removed(Answer):
    """``auth.remove_credential``: whether something was stored and is now gone."""

    provider: str
    removed: bool


class ProviderInfo(Answer):
    """One provider of ``provider.list``: its names, variables, host and auth methods;
    ``error`` when its config.toml entry is wrong (it cannot be used then)."""

    name: str
    display_name: str
    aliases: list[str]
    env: str | None
    host_env: str | None
    default_host: str | None
    auth_methods: list[str]
    api_path: str = ""
    base_url: str | None = None
    error: str | None = None


class ConfigInfo(Answer):
    """config.toml as the daemon read it: ``error`` when the file is not used at all."""

    path: str | None
    error: str | None
    warnings: list[str]


class Providers(Answer):
    """``provider.list``: every known provider, in registry order, then the broken entries."""

    providers: list[ProviderInfo]
    config: ConfigInfo | None = None


class Locked(Answer):
    """``daemon.lock``: the cache is empty; how many entries it held."""

    locked: bool
    forgotten: int


class Migration(Answer):
    """``store.migrate``: the stores before and after, and the providers whose
    credentials were ``moved``; ``replaced`` ones overwrote an entry already in the target,
    ``kept`` ones were in the target already and stay, ``left_in_source`` could not be
    deleted from the old store after their verified copy."""

    _wire_names = {"source": "from", "target": "to"}  # noqa: RUF012 - a ClassVar of Answer
    source: StoreInfo
    target: StoreInfo
    moved: list[str]
    replaced: list[str]
    kept: list[str]
    left_in_source: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The migration as plain data (the CLI's ``--json`` shape)."""
        return self.to_wire()


class LoginStart(Answer):
    """``auth.login_start``: a login the daemon has started, and what to show the user.

    Browser logins have ``authorization_url`` (and the loopback ``redirect_uri`` it
    returns to); device logins have ``user_code`` and ``verification_uri`` (and maybe
    ``verification_uri_complete``). ``expires_in`` is the time left, in seconds.
    ``revoked`` says whether a stored login of the provider was revoked and deleted before
    this one began (None when there was nothing to revoke).
    """

    login_id: str
    provider: str
    flow: str
    expires_in: float
    authorization_url: str | None = None
    redirect_uri: str | None = None
    user_code: str | None = None
    verification_uri: str | None = None
    verification_uri_complete: str | None = None
    interval: float | None = None
    revoked: bool | None = None
    """Whether the previous login of this provider was revoked first (None: none was
    stored, or the provider offers no revocation)."""


class LoginPending(Answer):
    """``auth.login_wait`` before the login ended: ``status`` "pending"."""

    login_id: str
    status: str
    expires_in: float


class LoginResult(Answer):
    """``auth.login_wait`` once the login succeeded (``status`` "done"): the provider,
    when its access token expires (or None), its scope and the store that holds it."""

    login_id: str
    status: str
    provider: str
    auth_method: str
    expires_at: float | None = None
    scope: str | None = None
    store: str | None = None


class Cancelled(Answer):
    """``auth.login_cancel``: whether the login was still running."""

    login_id: str
    cancelled: bool


class LoggedOut(Answer):
    """``auth.logout``: whether a login was stored (and deleted), and whether the
    provider confirmed the revocation (None: it offers none)."""

    provider: str
    removed: bool
    revoked: bool | None


class Reported(Answer):
    """``auth.report_invalid``: whether a new token is ready, and when it expires."""

    provider: str
    refreshed: bool
    expires_at: float | None


RESULTS: dict[str, type[Answer]] = {
    protocol.HELLO: Hello,
    protocol.DAEMON_STATUS: DaemonStatus,
    protocol.RESOLVE: Resolution,
    protocol.STATUS: Statuses,
    protocol.SET_CREDENTIAL: Stored,
    protocol.REMOVE_CREDENTIAL: Removed,
    protocol.PROVIDER_LIST: Providers,
    protocol.DAEMON_LOCK: Locked,
    protocol.STORE_MIGRATE: Migration,
    protocol.LOGIN_START: LoginStart,
    protocol.LOGIN_WAIT: LoginResult,  # or LoginPending, when its status is "pending"
    protocol.LOGIN_CANCEL: Cancelled,
    protocol.LOGOUT: LoggedOut,
    protocol.REPORT_INVALID: Reported,
}
"""The shape of each method's result (every method of ``protocol.PARAMS`` has one)."""
