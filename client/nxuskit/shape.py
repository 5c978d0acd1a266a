"""The machinery of the wire's result shapes: ``Answer``, the base every shape derives from.

A shape is a class whose annotated attributes are its wire fields, in wire order; a field
with a default may be absent on the wire. ``to_wire()`` gives the JSON object;
``from_wire()`` checks every field's type against its annotation (nested shapes, lists,
``X | None`` included) and refuses an answer that lacks a required field
(``ProtocolError``) instead of filling in a default. Fields a newer daemon adds and this
client does not know are ignored, so adding a field needs no version bump. The shapes
themselves are in ``nxuskit.answers``. Standard library only, like the whole client.
"""

from __future__ import annotations

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
        optional = "None" in alternatives
        checks = [_checker(part) for part in alternatives if part != "None"]

        def union(value: object) -> object:
            if value is None:  # decided here: a nested shape would build an error to refuse it
                if optional:
                    return None
                raise _Bad
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
