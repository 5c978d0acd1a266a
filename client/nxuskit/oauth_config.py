"""Checking a provider's ``[providers.NAME.oauth]`` table (a contract other programs write).

::

    [providers.acme]
    auth_methods = ["oauth"]                  # may also list "api_key"
    [providers.acme.oauth]
    authorize_url = "https://id.example.com/auth"
    token_url = "https://id.example.com/token"
    client_id = "nxuskit"
    scopes = ["openid"]
    # optional:
    device_authorization_url = "https://id.example.com/device"   # RFC 8628 device flow
    revocation_url = "https://id.example.com/revoke"             # RFC 7009, used by logout
    redirect_host = "127.0.0.1"         # or "localhost" (listens on 127.0.0.1 and ::1)
    extra_authorize_params = { prompt = "consent" }
    flow = "oauth2"                     # or "openrouter": its PKCE flow that yields an API key
    allow_insecure_http = true          # only for a test server: http:// on 127.0.0.1, ::1
                                        # or localhost (tokens would cross it in clear)

The result is a plain dict with every key present (``None`` or empty when not given), so
the daemon reads it without re-checking. URLs must be https; http only on a loopback host
and only with ``allow_insecure_http = true`` for that provider. Imported only when
config.toml has such a table.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from nxuskit.providers import OAUTH_DEFAULTS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from nxuskit.config_errors import TableLocation

FLOWS = ("oauth2", "openrouter")
REDIRECT_HOSTS = ("127.0.0.1", "localhost")
URL_FIELDS = ("authorize_url", "token_url", "device_authorization_url", "revocation_url")
FIELDS = (
    *URL_FIELDS,
    "client_id",
    "scopes",
    "redirect_host",
    "extra_authorize_params",
    "flow",
    "allow_insecure_http",
)
RESERVED_PARAMS = frozenset(
    (
        "client_id",
        "redirect_uri",
        "response_type",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
        "callback_url",
    )
)
LOOPBACK_HOSTS = frozenset(("127.0.0.1", "localhost", "::1"))


def _url_problem(field: str, value: object, insecure_ok: bool) -> str | None:
    if not isinstance(value, str):
        return f"{field} must be a string URL"
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return f"{field} is not a valid URL: check its brackets, host and port"
    host = parts.hostname or ""
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and host in LOOPBACK_HOSTS:
        if insecure_ok:
            return None
        return (
            f"{field} is http://, which sends tokens in clear: use https://, or, for a local "
            "test server only, set allow_insecure_http = true in this table"
        )
    return f"{field} must be an https:// URL (http:// only on 127.0.0.1, ::1 or localhost)"


def _urls(result: dict[str, Any]) -> tuple[str | None, str] | None:
    insecure_ok = result["allow_insecure_http"] is True
    for field in URL_FIELDS:
        if result[field] is not None:
            problem = _url_problem(field, result[field], insecure_ok)
            if problem:
                return field, problem
    for field in ("authorize_url", "token_url"):
        if result[field] is None:
            return None, f"{field} is required"
    return None


def _client_id(result: dict[str, Any]) -> tuple[str | None, str] | None:
    client_id = result["client_id"]
    if client_id is not None and (not isinstance(client_id, str) or not client_id.strip()):
        return "client_id", "client_id must be a non-empty string"
    if result["flow"] == "oauth2" and client_id is None:
        return None, "client_id is required (the id registered with the provider)"
    return None


def _flow(result: dict[str, Any]) -> tuple[str | None, str] | None:
    if result["flow"] not in FLOWS:
        return "flow", f"flow must be one of {', '.join(FLOWS)}"
    if not isinstance(result["allow_insecure_http"], bool):
        return "allow_insecure_http", "allow_insecure_http must be true or false"
    return None


def _scopes(result: dict[str, Any]) -> tuple[str | None, str] | None:
    scopes = result["scopes"]
    if isinstance(scopes, list) and all(
        isinstance(s, str) and s and not re.search(r"\s", s) for s in scopes
    ):
        return None
    return "scopes", 'scopes must be a list of scope names, like ["openid"]'


def _redirect(result: dict[str, Any]) -> tuple[str | None, str] | None:
    if result["redirect_host"] in REDIRECT_HOSTS:
        return None
    return "redirect_host", 'redirect_host must be "127.0.0.1" or "localhost"'


def _extra(result: dict[str, Any]) -> tuple[str | None, str] | None:
    extra = result["extra_authorize_params"]
    if not isinstance(extra, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in extra.items()
    ):
        problem = 'extra_authorize_params must be a table of strings, like { prompt = "consent" }'
        return "extra_authorize_params", problem
    reserved = sorted(RESERVED_PARAMS.intersection(extra))
    if reserved:
        problem = f"extra_authorize_params may not set {', '.join(reserved)}: nxuskit sets those"
        return "extra_authorize_params", problem
    return None


CHECKS: tuple[Callable[[dict[str, Any]], tuple[str | None, str] | None], ...] = (
    _flow,
    _urls,
    _client_id,
    _scopes,
    _redirect,
    _extra,
)
"""Each check returns the field to point at (None: the table) and the problem, or None."""


def parse_oauth(
    provider: TableLocation, table: dict[str, Any], base: dict[str, Any] | None
) -> dict[str, Any]:
    """The checked OAuth settings of the provider whose table is at ``provider``:
    ``table`` (its ``oauth`` table) over ``base`` (a built-in's settings, which config may
    override field by field).

    Raises ConfigError naming the file and the line of the offending field.
    """
    location = provider.inner("oauth")
    for field in table:
        if field not in FIELDS:
            known = ", ".join(sorted(FIELDS))
            raise location.error(field, f"unknown field {field!r} (known: {known})")
    # allow_insecure_http is never inherited: each table that uses http says so itself.
    result = {**OAUTH_DEFAULTS, **(base or {}), "allow_insecure_http": False, **table}
    for check in CHECKS:
        found = check(result)
        if found is not None:
            raise location.error(*found)
    result["scopes"] = list(result["scopes"])
    result["extra_authorize_params"] = dict(result["extra_authorize_params"])
    return result
