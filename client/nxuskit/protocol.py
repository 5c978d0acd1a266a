"""The wire contract between nxuskit clients and nxuskitd, in one place.

JSON-RPC 2.0, one compact UTF-8 JSON object (or batch array) per line, ``\\n``-terminated,
over a Unix domain socket. docs/protocol.md is the prose version of this module; the
daemon validates every request against ``PARAMS`` below, and the client sends exactly
these names. Bump ``PROTOCOL_VERSION`` when a change would confuse an older peer;
adding a method or an optional field does not need a bump.
"""

from __future__ import annotations

PROTOCOL_VERSION = 1
"""The version this client speaks and the daemon serves (``daemon.hello``)."""

MIN_PROTOCOL_VERSION = 1
"""The oldest daemon protocol this client can work with."""

MAX_MESSAGE_BYTES = 64 * 1024
"""The longest request line the daemon accepts, newline included; longer ones end the
connection. Answers may be longer (a status of many providers)."""

MAX_ANSWER_BYTES = 16 * 1024 * 1024
"""The longest answer line the Python client reads."""

MAX_BATCH = 64
"""The most calls one batch array may hold."""

MAX_SECRET_BYTES = 16 * 1024
"""The longest secret ``auth.set_credential`` accepts (UTF-8 bytes)."""

# Method names. One capability has one name: the client function ``auth_resolve`` sends
# ``auth.resolve``; the CLI's ``provider status`` calls ``auth_status``, which sends
# ``auth.status``.
HELLO = "daemon.hello"
DAEMON_STATUS = "daemon.status"
RESOLVE = "auth.resolve"
STATUS = "auth.status"
SET_CREDENTIAL = "auth.set_credential"
REMOVE_CREDENTIAL = "auth.remove_credential"
PROVIDER_LIST = "provider.list"
DAEMON_LOCK = "daemon.lock"
STORE_MIGRATE = "store.migrate"
LOGIN_START = "auth.login_start"
LOGIN_WAIT = "auth.login_wait"
LOGIN_CANCEL = "auth.login_cancel"
LOGOUT = "auth.logout"
REPORT_INVALID = "auth.report_invalid"
AUDIT_QUERY = "audit.query"
TEAM_STATUS = "team.status"
TEAM_LOGIN = "team.login"
TEAM_LOGOUT = "team.logout"
TEAM_SET_CREDENTIAL = "team.set_credential"

LOGIN_WAIT_MAX = 20.0
"""The longest one ``auth.login_wait`` call blocks (seconds), well inside client timeouts."""

LOGIN_TIMEOUT_DEFAULT = 300.0
"""How long a login may take when ``auth.login_start`` names no ``timeout`` (seconds)."""

LOGIN_TIMEOUT_MAX = 3600.0
"""The longest login ``auth.login_start`` accepts (seconds)."""

AUDIT_LIMIT_DEFAULT = 100
"""How many entries ``audit.query`` answers when it names no ``limit`` (the newest)."""

AUDIT_LIMIT_MAX = 10_000
"""The most entries one ``audit.query`` answers."""

PARAMS: dict[str, tuple[dict[str, type], dict[str, type]]] = {
    # method: ({required param: JSON type}, {optional param: JSON type})
    HELLO: ({}, {"protocol": int, "client": str}),
    DAEMON_STATUS: ({}, {}),
    RESOLVE: ({"provider": str}, {"reuse": bool}),
    STATUS: ({}, {"provider": str}),
    SET_CREDENTIAL: ({"provider": str, "secret": str}, {}),
    REMOVE_CREDENTIAL: ({"provider": str}, {}),
    PROVIDER_LIST: ({}, {}),
    DAEMON_LOCK: ({}, {}),
    STORE_MIGRATE: ({"to": str}, {}),
    LOGIN_START: ({"provider": str}, {"device": bool, "timeout": float}),
    LOGIN_WAIT: ({"login_id": str}, {"timeout": float}),
    LOGIN_CANCEL: ({"login_id": str}, {}),
    LOGOUT: ({"provider": str}, {}),
    REPORT_INVALID: ({"provider": str}, {"token_sha256": str}),
    AUDIT_QUERY: ({}, {"provider": str, "since": float, "limit": int}),
    TEAM_STATUS: ({}, {}),
    TEAM_LOGIN: ({"secret": str}, {}),
    TEAM_LOGOUT: ({}, {}),
    TEAM_SET_CREDENTIAL: ({"provider": str, "secret": str}, {}),
}
"""Every method and its named parameters (positional params are refused with -32602)."""

RETRY_SAFE = frozenset(
    (HELLO, DAEMON_STATUS, RESOLVE, STATUS, SET_CREDENTIAL, REMOVE_CREDENTIAL, PROVIDER_LIST,
     DAEMON_LOCK, STORE_MIGRATE, LOGIN_WAIT, LOGIN_CANCEL, LOGOUT, AUDIT_QUERY, TEAM_STATUS,
     TEAM_LOGIN, TEAM_LOGOUT)
)  # fmt: skip
"""Methods a client may send again when the connection closed before their answer came:
running them twice leaves the same state (a second remove reports ``removed: false``).
``auth.login_start`` would start a second login, ``auth.report_invalid`` could refresh
twice and ``team.set_credential`` would write a second version, so they are never resent."""

# JSON-RPC 2.0's own error codes, exactly as the specification numbers them.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603

# Values of the ``source`` field: where a credential came from.
SOURCE_EXPLICIT = "explicit"
SOURCE_ENV = "env"
SOURCE_STORE = "store"
SOURCE_OAUTH = "oauth"
SOURCE_TEAM = "team"
"""A key read from the team store (OpenBao or Vault, ``[team]`` in config.toml)."""

# Values of the ``status`` field.
AUTHENTICATED = "authenticated"
NOT_AUTHENTICATED = "not_authenticated"
NOT_REQUIRED = "not_required"

# Where credentials live: the kinds of store a daemon can serve from (``--store``,
# ``store.migrate``'s ``to``, ``store.kind`` in answers), in the order ``auto`` prefers them.
STORE_KINDS = ("keyring", "file")

# How a daemon was started (``daemon.status``'s ``started_by``).
STARTED_BY = ("hand", "autostart", "systemd", "launchd")

# Values of ``auth_method`` / ``auth_methods``.
API_KEY = "api_key"
OAUTH = "oauth"
NO_AUTH = "none"

# How nxuskitd authenticates to the team store (``[team]`` ``auth`` in config.toml).
TEAM_AUTH = ("token", "approle")
