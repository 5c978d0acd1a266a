"""Reading config.toml into the registry, with errors that name the file and line.

A wrong ``[providers.NAME]`` table costs only that provider: it is listed in
``Registry.broken`` and asking for it raises its ConfigError; the others keep working.
A file that cannot be used at all (not yours or writable by others, unreadable, not
TOML) is not used: the registry keeps the built-ins and ``Registry.error`` says why.
Unknown top-level keys are warnings. Imported only when a config file exists, so a
client without one never pays for tomllib.
"""

from __future__ import annotations

import os
import re
import tomllib
from urllib.parse import urlsplit

from nxuskit import config_trust
from nxuskit.config_errors import TableLocation, top_level_line, where
from nxuskit.errors import ConfigError, NxuskitError, PermissionDenied
from nxuskit.providers import AUTH_METHODS, BEARER, ProviderSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

MAX_BYTES = 1024 * 1024
TOP_LEVEL = ("providers", "team")
_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_PATH = re.compile(r"(/[A-Za-z0-9._~!$&'()*+,;=:@%-]*)+")
_HEADER = re.compile(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+")
CUSTOM_DEFAULTS: dict[str, Any] = {
    "host_env": None,
    "default_host": None,
    "api_path": "",
    "verify_path": "/models",
    "key_header": BEARER,
    "verify_headers": (),
    "oauth": None,
}
"""What a provider that is no built-in has where config.toml says nothing."""


class Section:
    """A top-level table of config.toml that another part reads itself (nxuskitd's
    ``[team]``): its ``value`` as parsed, and its ``location`` for errors that name the
    line. The client only carries it."""

    __slots__ = ("location", "value")

    def __init__(self, location: TableLocation, value: object) -> None:
        self.location = location
        self.value = value


class ConfigFile:
    """What config.toml says, for ``nxuskit.registry`` to build its Registry from:
    ``providers`` (the built-ins merged with the file's), ``broken`` entries, ``warnings``,
    ``error`` when the file as a whole is not used, and the ``[team]`` table (or None)."""

    __slots__ = ("broken", "error", "providers", "team", "warnings")

    def __init__(
        self,
        providers: tuple[ProviderSpec, ...],
        broken: dict[str, ConfigError] | None = None,
        warnings: list[str] | None = None,
        error: NxuskitError | None = None,
        team: Section | None = None,
    ) -> None:
        self.providers = providers
        self.broken = broken or {}
        self.warnings = warnings or []
        self.error = error
        self.team = team


def read_config(path: str, builtin: tuple[ProviderSpec, ...]) -> ConfigFile:
    """The built-ins merged with the ``[providers.*]`` tables of the file at ``path``."""
    try:
        text = _read_trusted(path)
        try:
            document = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: {exc} - fix the TOML syntax there") from None
    except (ConfigError, PermissionDenied) as error:
        return ConfigFile(builtin, error=error)
    warnings = [
        f"{where(path, top_level_line(text, key))}: unknown top-level key {key!r} is "
        "ignored (config.toml holds [providers.NAME] tables and a [team] table)"
        for key in document
        if key not in TOP_LEVEL
    ]
    tables = document.get("providers", {})
    if not isinstance(tables, dict):
        line = top_level_line(text, "providers")
        problem = "'providers' must be a table, like [providers.acme]"
        return ConfigFile(builtin, error=ConfigError(f"{where(path, line)}: {problem}"))
    providers, broken = _merge(path, text, tables, builtin)
    team = None
    if "team" in document:
        team = Section(TableLocation(path, text, ("team",)), document["team"])
    return ConfigFile(tuple(providers.values()), broken, warnings, team=team)


def _read_trusted(path: str) -> str:
    """The text of ``path``, opened once and checked as opened (``config_trust.config_problem``)."""
    # O_NONBLOCK: a FIFO planted as config.toml must not hang the open.
    flags = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        descriptor = os.open(path, flags)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    try:
        problem = config_trust.config_problem(path, os.fstat(descriptor))
        if problem is not None:
            raise PermissionDenied(problem)
        with open(descriptor, "rb", closefd=False) as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    finally:
        os.close(descriptor)
    if len(raw) > MAX_BYTES:
        raise ConfigError(f"{path}: over {MAX_BYTES // 1024} KiB; is it the right file?")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None


def _location(path: str, text: str, title: str) -> TableLocation:
    """Where ``[providers.TITLE]`` is (the name as written in the file)."""
    return TableLocation(path, text, ("providers", title))


def _merge(
    path: str, text: str, tables: dict[str, Any], builtin: tuple[ProviderSpec, ...]
) -> tuple[dict[str, ProviderSpec], dict[str, ConfigError]]:
    """The providers (built-ins overridden, others added) and the broken entries."""
    providers = {spec.name: spec for spec in builtin}
    alias_of = {alias: spec.name for spec in builtin for alias in spec.aliases}
    broken: dict[str, ConfigError] = {}
    for title, table in tables.items():
        name = alias_of.get(title.lower(), title.lower())
        try:
            providers[name] = _provider(
                _location(path, text, title), name, table, providers.get(name)
            )
        except ConfigError as error:
            providers.pop(name, None)
            broken[name] = error
    _check_aliases(path, text, providers, broken)
    return providers, broken


def _check_aliases(
    path: str, text: str, providers: dict[str, ProviderSpec], broken: dict[str, ConfigError]
) -> None:
    """No alias may name another provider: "openai" must always mean OpenAI's entry. The
    later entry that claims a taken name is broken."""
    owner = {name: name for name in providers}
    for spec in list(providers.values()):
        clash = next((a for a in spec.aliases if owner.setdefault(a, spec.name) != spec.name), None)
        if clash is not None:
            del providers[spec.name]
            problem = f"alias {clash!r} already names the provider {owner[clash]!r}"
            broken[spec.name] = _location(path, text, spec.name).error("aliases", problem)


# Field checks: each returns what is wrong with a value (after the field's name), or None.


def _string(value: object) -> str | None:
    return None if isinstance(value, str) else "must be a string"


def _variable(value: object) -> str | None:
    if isinstance(value, str) and _ENV.fullmatch(value):
        return None
    return _string(value) or "must be an environment variable name, like ACME_API_KEY"


def _url(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a string"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an http:// or https:// URL, like https://api.acme.example/v1"
    return None


def _path(value: object) -> str | None:
    if isinstance(value, str) and (value == "" or _PATH.fullmatch(value)):
        return None
    return _string(value) or 'must be a URL path starting with "/", like "/v1"'


def _header(value: object) -> str | None:
    if isinstance(value, str) and _HEADER.fullmatch(value):
        return None
    return _string(value) or 'must be a header name, like "x-api-key" ("authorization": Bearer)'


def _methods(value: object) -> str | None:
    if isinstance(value, list) and all(method in AUTH_METHODS for method in value):
        return None
    return 'must be a list drawn from ["api_key", "oauth"]'


def _aliases(value: object) -> str | None:
    if isinstance(value, list) and all(isinstance(a, str) and _NAME.fullmatch(a) for a in value):
        return None
    return "must be a list of lowercase names"


def _table(value: object) -> str | None:
    return None if isinstance(value, dict) else "must be a table, like [providers.X.oauth]"


FIELDS: dict[str, Callable[[object], str | None]] = {
    "display_name": _string,
    "env": _variable,
    "host_env": _variable,
    "default_host": _url,
    "api_path": _path,
    "verify_path": _path,
    "key_header": _header,
    "auth_methods": _methods,
    "aliases": _aliases,
    "oauth": _table,
}
"""The fields of a ``[providers.NAME]`` table and how each is checked."""


def _provider(
    location: TableLocation, name: str, table: object, base: ProviderSpec | None
) -> ProviderSpec:
    """The provider ``table`` describes, over ``base`` (the built-in it overrides)."""
    if not _NAME.fullmatch(name):
        raise location.error(None, "bad name: use lowercase letters, digits, '-', '_' or '.'")
    if not isinstance(table, dict):
        raise location.error(None, "must be a table")
    for field, value in table.items():
        check = FIELDS.get(field)
        if check is None:
            known = ", ".join(sorted(FIELDS))
            raise location.error(field, f"unknown field {field!r} (known: {known})")
        problem = check(value)
        if problem is not None:
            raise location.error(field, f"{field} {problem}")
    inherited = _inherited(name, base)
    methods = tuple(table.get("auth_methods", inherited["auth_methods"]))
    if "auth_methods" not in table and base is None and "oauth" in table:
        methods = ("oauth",)
    oauth = inherited["oauth"]
    if "oauth" in table:
        from nxuskit.oauth_config import parse_oauth

        oauth = parse_oauth(location, table["oauth"], oauth)
    if "oauth" in methods and oauth is None:
        raise location.error(
            "auth_methods",
            f'auth_methods lists "oauth" but there is no [providers.{location.table[-1]}.oauth] '
            "table with authorize_url, token_url and client_id",
        )
    fields = {**inherited, **table, "auth_methods": methods, "oauth": oauth}
    if fields["env"] is None and "api_key" in methods:
        fields["env"] = name.upper().replace("-", "_").replace(".", "_") + "_API_KEY"
    fields["aliases"] = tuple(fields["aliases"])
    return ProviderSpec(name, **fields)


def _inherited(name: str, base: ProviderSpec | None) -> dict[str, Any]:
    """The fields ``name`` has before config.toml speaks: its built-in's, or defaults."""
    if base is None:
        return {**CUSTOM_DEFAULTS, "display_name": name, "env": None,
                "auth_methods": ("api_key",), "aliases": ()}  # fmt: skip
    return {field: getattr(base, field) for field in ProviderSpec.__slots__ if field != "name"}
