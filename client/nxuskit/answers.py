"""What each method of nxuskitd answers: every result shape, defined once for both sides.

The daemon builds these objects and sends ``to_wire()``; the client reads a result with
``from_wire()``, which checks every field and refuses an answer that lacks a required one
(``ProtocolError``) instead of filling in a default (the machinery is ``nxuskit.shape``).
``RESULTS`` maps each method of ``nxuskit.protocol.PARAMS`` to its shape.

Adding a method: its params in ``protocol.PARAMS``, its shape here and in ``RESULTS``.
The team store's shapes are in ``nxuskit.team_answers`` and re-exported here.
"""

from __future__ import annotations

from nxuskit import protocol
from nxuskit.shape import Answer
from nxuskit.team_answers import TeamInfo, TeamLoggedOut, TeamOrigin, TeamStored

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "RESULTS",
    "Answer",
    "AuditEntry",
    "AuditTrail",
    "AuthStatus",
    "CacheInfo",
    "Cancelled",
    "ConfigInfo",
    "DaemonStatus",
    "Hello",
    "Locked",
    "LoggedOut",
    "LoginPending",
    "LoginResult",
    "LoginStart",
    "Migration",
    "ProviderInfo",
    "Providers",
    "Removed",
    "Reported",
    "Resolution",
    "Reuse",
    "Statuses",
    "StoreInfo",
    "Stored",
    "TeamInfo",
    "TeamLoggedOut",
    "TeamOrigin",
    "TeamStored",
]


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
    team: TeamInfo | None = None


class Reuse(Answer):
    """How long a client may reuse an ``auth.resolve`` answer without asking again
    (docs/protocol.md, "The client cache"): while the daemon's generation file holds
    ``generation``, for at most ``seconds`` from when the request was sent, and, when
    ``idle`` is a number, until ``idle`` seconds pass without a reuse."""

    generation: int
    seconds: float
    idle: float | None = None


class Resolution(Answer):
    """A resolved credential: ``secret`` and where it came from (``source``).

    ``source`` is "explicit", "env", "store" or "oauth" (None for a provider that needs
    no credential, whose ``secret`` is None too). ``auth_method`` is "api_key", "oauth"
    or "none"; ``expires_at`` is a Unix time for expiring tokens, else None; ``reuse``
    is the daemon's leave to cache the answer (``Reuse``). Its repr never shows the secret.
    """

    _hidden = frozenset(("secret",))
    provider: str
    secret: str | None
    source: str | None
    auth_method: str
    expires_at: float | None = None
    reuse: Reuse | None = None  # absent from older daemons, and where caching is not allowed

    def __str__(self) -> str:
        return repr(self)


class AuthStatus(Answer):
    """Whether a provider is usable, from which source, with which methods (no secret).

    ``status`` is "authenticated", "not_authenticated" or "not_required", or
    "config_invalid" for a wrong config.toml entry (then ``error`` says why); ``source``
    is the source that would win a resolve now, or None. ``last_used`` is when nxuskitd
    last handed out this provider's credential (Unix time, from its audit log), or None.
    ``team`` says where a key of the team store came from (``source`` "team"), else None.
    """

    provider: str
    status: str
    source: str | None
    auth_methods: list[str]
    auth_method: str | None = None
    expires_at: float | None = None
    display_name: str | None = None
    error: str | None = None
    last_used: float | None = None
    team: TeamOrigin | None = None

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
    daemons); ``team``, the team store when config.toml has one (else None)."""

    providers: list[AuthStatus]
    store: StoreInfo
    orphans: list[str] = []  # noqa: RUF012 - copied per instance by Answer.__init__
    team: TeamInfo | None = None


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


class AuditEntry(Answer):
    """One credential access the daemon recorded (``nxuskit.audit`` says which): when,
    which method, for which provider, from which ``source``, its ``result`` ("ok" or the
    error's kind), and the calling process as the kernel named it (``pid``, ``executable``;
    None where the OS does not say). ``reuse``: for a resolve that granted it, the
    seconds that process may use the answer from its cache without asking again (those
    uses are not recorded). Never a secret."""

    time: float
    method: str
    provider: str | None
    source: str | None
    result: str
    pid: int | None
    executable: str | None
    reuse: float | None = None


class AuditTrail(Answer):
    """``audit.query``: the matching entries, oldest first (at most ``limit``, the newest);
    ``more`` when older matching ones were left out; the log's ``path`` (None: this daemon
    keeps none); ``problem``: why entries are not being written now, or None."""

    entries: list[AuditEntry]
    more: bool
    path: str | None
    problem: str | None = None


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
    protocol.AUDIT_QUERY: AuditTrail,
    protocol.TEAM_STATUS: TeamInfo,
    protocol.TEAM_LOGIN: TeamInfo,
    protocol.TEAM_LOGOUT: TeamLoggedOut,
    protocol.TEAM_SET_CREDENTIAL: TeamStored,
}
"""The shape of each method's result (every method of ``protocol.PARAMS`` has one)."""
