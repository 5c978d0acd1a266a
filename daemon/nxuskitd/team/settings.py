"""The ``[team]`` table of config.toml, checked: where the team store is and how to use it.

::

    [team]
    address = "https://bao.example.com:8200"   # or a list: the nodes of a cluster
    mount = "secret"                           # the KV v2 engine (default "secret")
    path = "nxuskit/{provider}"                # each provider's secret (the default)
    field = "api_key"                          # the key inside it (the default)
    auth = "token"                             # or "approle" (role_id, secret_id_file)

These names are a contract: new ones may be added, none renamed. A mistake costs the team
store only (personal keys keep working): ``parse`` raises a ConfigError that names the
file and line. Plain http is refused unless the address is loopback (a test server) or
``insecure_http = true`` says so, which status then shows. Standard library only: this
module is imported when config.toml has a ``[team]``, and imports no HTTP client.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from nxuskit import protocol
from nxuskit.config import Section
from nxuskit.errors import ConfigError

PROVIDER = "{provider}"
_MOUNT = re.compile(r"[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_PATH = re.compile(r"[A-Za-z0-9_.{}-]+(/[A-Za-z0-9_.{}-]+)*")


@dataclasses.dataclass(frozen=True)
class TeamSettings:
    """What ``[team]`` says, with its defaults filled in."""

    addresses: tuple[str, ...]
    mount: str = "secret"
    path: str = "nxuskit/{provider}"
    field: str = "api_key"
    auth: str = "token"
    role_id: str | None = None
    secret_id_file: str | None = None
    approle_mount: str = "approle"
    ca_file: str | None = None
    namespace: str | None = None
    cache_ttl: float = 300.0
    """Seconds a key read from the team store is served before it is read again."""
    max_stale: float = 3600.0
    """Seconds past ``cache_ttl`` a cached key is still served while the store is down."""
    timeout: float = 5.0
    """Seconds one request to a node may take."""
    insecure_http: bool = False
    source: str = ""
    """The config file, for messages."""

    @property
    def insecure(self) -> bool:
        """Whether plain http goes to a non-loopback address (allowed by insecure_http)."""
        return any(_plain_http(address) and not _loopback(address) for address in self.addresses)

    def secret_path(self, provider: str) -> str:
        """``provider``'s secret path inside the mount (``nxuskit/openai``)."""
        return self.path.replace(PROVIDER, provider)

    def shown_path(self, provider: str = PROVIDER) -> str:
        """The path with its mount, as ``bao kv get`` takes it (``secret/nxuskit/openai``)."""
        return f"{self.mount}/{self.secret_path(provider)}"


def _plain_http(address: str) -> bool:
    return urlsplit(address).scheme == "http"


def _loopback(address: str) -> bool:
    host = urlsplit(address).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# Field checks: each returns what is wrong with a value (after the field's name), or None.


def _text(value: object) -> str | None:
    return None if isinstance(value, str) and value.strip() else "must be a non-empty string"


def _address(value: object) -> str | None:
    if not isinstance(value, str):
        return "must be a URL string"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        return f"{value!r} must be an https:// URL, like https://bao.example.com:8200"
    if parts.path.strip("/") or parts.query or parts.fragment:
        return f"{value!r} must name the server only, with no path (the mount is separate)"
    return None


def _addresses(value: object) -> str | None:
    if isinstance(value, list):
        if not value:
            return "must name at least one node"
        return next((problem for item in value if (problem := _address(item))), None)
    return _address(value)


def _mount(value: object) -> str | None:
    if isinstance(value, str) and _MOUNT.fullmatch(value):
        return None
    return 'must be the path of a KV v2 engine, like "secret" (no leading or trailing /)'


def _path(value: object) -> str | None:
    if not isinstance(value, str) or not _PATH.fullmatch(value):
        return 'must be a secret path like "nxuskit/{provider}" (no leading or trailing /)'
    others = value.replace(PROVIDER, "")
    if PROVIDER not in value or "{" in others or "}" in others:
        return 'must contain "{provider}" (once or more) and no other {...}'
    return None


def _auth(value: object) -> str | None:
    if value in protocol.TEAM_AUTH:
        return None
    return f"must be one of {', '.join(repr(kind) for kind in protocol.TEAM_AUTH)}"


def _seconds(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0:
        return None
    return "must be a number of seconds, 0 or more"


def _timeout(value: object) -> str | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 120:
        return None
    return "must be a number of seconds above 0, at most 120"


def _file(value: object) -> str | None:
    if isinstance(value, str) and os.path.isabs(os.path.expanduser(value)):
        return None
    return "must be an absolute path (~ is allowed)"


def _flag(value: object) -> str | None:
    return None if isinstance(value, bool) else "must be true or false"


FIELDS: dict[str, Callable[[object], str | None]] = {
    "address": _addresses,
    "mount": _mount,
    "path": _path,
    "field": _text,
    "auth": _auth,
    "role_id": _text,
    "secret_id_file": _file,
    "approle_mount": _mount,
    "ca_file": _file,
    "namespace": _text,
    "cache_ttl": _seconds,
    "max_stale": _seconds,
    "timeout": _timeout,
    "insecure_http": _flag,
}
"""The fields of ``[team]`` and how each is checked."""


def parse(section: Section) -> TeamSettings:
    """The settings ``[team]`` gives. Raises ConfigError naming the file and line."""
    location, table = section.location, section.value
    if not isinstance(table, dict):
        raise location.error(None, "must be a table, with address = ... in it")
    for field, value in table.items():
        check = FIELDS.get(field)
        if check is None:
            known = ", ".join(sorted(FIELDS))
            raise location.error(field, f"unknown field {field!r} (known: {known})")
        problem = check(value)
        if problem is not None:
            raise location.error(field, f"{field} {problem}")
    if "address" not in table:
        raise location.error(None, 'needs address = "https://..." (the team store\'s URL)')
    settings = _settings(table, location.path)
    _check_auth(settings, table, location.error)
    return settings


def _settings(table: dict[str, Any], source: str) -> TeamSettings:
    address = table["address"]
    listed = address if isinstance(address, list) else [address]
    addresses = tuple(item.rstrip("/") for item in listed)
    fields = {key: value for key, value in table.items() if key != "address"}
    for name in ("secret_id_file", "ca_file"):
        if name in fields:
            fields[name] = os.path.expanduser(fields[name])
    for name in ("cache_ttl", "max_stale", "timeout"):
        if name in fields:
            fields[name] = float(fields[name])
    return TeamSettings(addresses=addresses, source=source, **fields)


def _check_auth(
    settings: TeamSettings, table: dict[str, Any], error: Callable[[str | None, str], ConfigError]
) -> None:
    if settings.auth == "approle" and settings.role_id is None:
        raise error("auth", 'auth = "approle" needs role_id = "..." (the AppRole\'s role_id)')
    if settings.auth == "token" and ("role_id" in table or "secret_id_file" in table):
        field = "role_id" if "role_id" in table else "secret_id_file"
        raise error(field, f'{field} is for auth = "approle"; with a token, leave it out')
    for address in settings.addresses:
        if _plain_http(address) and not _loopback(address) and not settings.insecure_http:
            raise error(
                "address",
                f"address {address} is plain http to another machine: tokens and keys would cross "
                "the network unencrypted; use https:// (ca_file for a private CA), or set "
                "insecure_http = true if this network is yours alone",
            )
