"""Reading config.toml into provider records, with errors that name the file and line.

Imported only when a config file exists, so a client without one never pays for tomllib.
"""

from __future__ import annotations

import re
import tomllib

from nxuskit.errors import ConfigError
from nxuskit.registry import AUTH_METHODS, ProviderSpec

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_NAME = re.compile(r"[a-z0-9][a-z0-9_.-]{0,63}")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STR_FIELDS = ("display_name", "env", "host_env", "default_host")
_KNOWN_FIELDS = frozenset((*_STR_FIELDS, "auth_methods", "aliases", "oauth"))


def line_of(text: str, table: tuple[str, ...], field: str | None = None) -> int:
    """The 1-based line of FIELD in the TOML table ``[a.b.c]`` named by ``table`` (or of
    the table's header when FIELD is None or not there); 0 when the table is not found."""
    dotted = r"\s*\.\s*".join(rf"\"?{re.escape(part)}\"?" for part in table)
    header = re.compile(rf"^\s*\[\s*{dotted}\s*\]")
    lines = text.splitlines()
    for number, line in enumerate(lines, 1):
        if header.match(line):
            if field is None:
                return number
            for offset, inner in enumerate(lines[number:], number + 1):
                if inner.lstrip().startswith("["):
                    break
                if re.match(rf"\s*{re.escape(field)}\s*=", inner):
                    return offset
            return number
    return 0


def _fail(path: str, text: str, name: str, field: str | None, problem: str) -> ConfigError:
    line = line_of(text, ("providers", name), field)
    where = f"{path}, line {line}" if line else path
    return ConfigError(f"{where}: [providers.{name}] {problem}")


def parse_config(path: str, builtin: tuple[ProviderSpec, ...]) -> tuple[ProviderSpec, ...]:
    """Built-ins merged with the ``[providers.*]`` tables of the file at ``path``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc} - fix the TOML syntax there") from None

    tables = document.get("providers", {})
    if not isinstance(tables, dict):
        raise ConfigError(f"{path}: 'providers' must be a table, like [providers.acme]")

    result = {spec.name: spec for spec in builtin}
    alias_of = {alias: spec.name for spec in builtin for alias in spec.aliases}
    for raw_name, table in tables.items():
        name = str(raw_name).lower()
        if not _NAME.fullmatch(name):
            raise _fail(
                path,
                text,
                str(raw_name),
                None,
                "bad name: use lowercase letters, digits, '-', '_' or '.'",
            )
        if not isinstance(table, dict):
            raise _fail(path, text, name, None, "must be a table")
        name = alias_of.get(name, name)
        result[name] = _provider(path, text, name, table, result.get(name))
    _check_names_unique(path, text, result)
    return tuple(result.values())


def _check_names_unique(path: str, text: str, providers: dict[str, ProviderSpec]) -> None:
    """No alias may name another provider: "openai" must always mean OpenAI's entry."""
    owner: dict[str, str] = {name: name for name in providers}
    for spec in providers.values():
        for alias in spec.aliases:
            taken = owner.get(alias)
            if taken is not None and taken != spec.name:
                raise _fail(
                    path,
                    text,
                    spec.name,
                    "aliases",
                    f"alias {alias!r} already names the provider {taken!r}",
                )
            owner[alias] = spec.name


def _provider(
    path: str, text: str, name: str, table: dict[str, Any], base: ProviderSpec | None
) -> ProviderSpec:
    for field in table:
        if field not in _KNOWN_FIELDS:
            known = ", ".join(sorted(_KNOWN_FIELDS))
            raise _fail(path, text, name, field, f"unknown field {field!r} (known: {known})")
    for field in _STR_FIELDS:
        if field in table and not isinstance(table[field], str):
            raise _fail(path, text, name, field, f"{field} must be a string")
    for field in ("env", "host_env"):
        if field in table and not _ENV.fullmatch(table[field]):
            raise _fail(path, text, name, field, f"{field} must be an environment variable name")

    methods: tuple[str, ...]
    if "auth_methods" in table:
        value = table["auth_methods"]
        if not isinstance(value, list) or any(m not in AUTH_METHODS for m in value):
            raise _fail(
                path,
                text,
                name,
                "auth_methods",
                'auth_methods must be a list drawn from ["api_key", "oauth"]',
            )
        methods = tuple(value)
    elif base is not None:
        methods = base.auth_methods
    else:
        methods = ("oauth",) if "oauth" in table else ("api_key",)

    aliases = table.get("aliases", list(base.aliases) if base else [])
    if not isinstance(aliases, list) or not all(
        isinstance(a, str) and _NAME.fullmatch(a) for a in aliases
    ):
        raise _fail(path, text, name, "aliases", "aliases must be a list of lowercase names")
    oauth = table.get("oauth", base.oauth if base else None)
    if oauth is not None and not isinstance(oauth, dict):
        raise _fail(path, text, name, "oauth", "oauth must be a table, like [providers.X.oauth]")
    if "oauth" in table:
        from nxuskit.oauth_config import parse_oauth

        oauth = parse_oauth(path, text, name, table["oauth"], base.oauth if base else None)
    if "oauth" in methods and oauth is None:
        raise _fail(
            path,
            text,
            name,
            "auth_methods",
            f'auth_methods lists "oauth" but there is no [providers.{name}.oauth] table '
            "with authorize_url, token_url and client_id",
        )

    env = table.get("env", base.env if base else None)
    if env is None and "api_key" in methods:
        env = name.upper().replace("-", "_").replace(".", "_") + "_API_KEY"
    return ProviderSpec(
        name=name,
        display_name=table.get("display_name", base.display_name if base else name),
        env=env,
        auth_methods=methods,
        aliases=tuple(aliases),
        host_env=table.get("host_env", base.host_env if base else None),
        default_host=table.get("default_host", base.default_host if base else None),
        oauth=oauth,
    )
