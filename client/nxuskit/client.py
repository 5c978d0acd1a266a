"""``Client``: one connection to nxuskitd and the whole credential API over it.

::

    from nxuskit import Client

    with Client() as client:                      # the default socket, autostart allowed
        client.auth_resolve("openai").secret
    Client(autostart=False, timeout=2.0).daemon_status()   # never starts a daemon

The module functions (``nxuskit.auth_resolve`` and the rest) use one default Client per
process (``default_client``). The connection itself (opening, autostart, reuse, retry,
fork safety, the ``connect`` transport) is ``nxuskit.channel``'s; this module is the API.

Adding an RPC method: its params in ``protocol.PARAMS``, its answer in ``nxuskit.answers``,
a method here, and (when apps call it) a module function beside its kin.
"""

from __future__ import annotations

import time

from nxuskit import precedence, protocol, registry
from nxuskit.answers import (
    AuditTrail,
    Cancelled,
    DaemonStatus,
    Locked,
    LoggedOut,
    LoginResult,
    LoginStart,
    Migration,
    Removed,
    Reported,
    Resolution,
    Statuses,
    Stored,
    StoreInfo,
    TeamInfo,
    TeamLoggedOut,
    TeamStored,
)
from nxuskit.channel import Channel
from nxuskit.precedence import StatusReport
from nxuskit.reuse import ReuseCache

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from nxuskit.answers import AuthStatus
    from nxuskit.channel import Connect


class Client(Channel):
    """A connection to nxuskitd, and the credential API over it.

    ``Client(socket_path=None, *, autostart=None, timeout=None, connect=None)``: see
    ``nxuskit.channel.Channel`` for what each one means. Each method is named after the
    module function it backs (``nxuskit.auth_resolve`` is ``Client().auth_resolve``).
    Repeated resolves are answered from memory while provably current (``nxuskit.reuse``;
    ``NXUSKIT_CLIENT_CACHE=0`` turns that off).
    """

    def __init__(
        self,
        socket_path: str | None = None,
        *,
        autostart: bool | None = None,
        timeout: float | None = None,
        connect: Connect | None = None,
    ) -> None:
        super().__init__(socket_path, autostart=autostart, timeout=timeout, connect=connect)
        self.reuse = ReuseCache(self.path)
        """The resolves this client answers from memory (``nxuskit.reuse``)."""

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection and forget the resolves kept (the next call asks anew)."""
        self.reuse.clear()
        super().close()

    def load_registry(self) -> registry.Registry:
        """The providers this client knows: built-ins plus config.toml
        (``nxuskit.load_registry``)."""
        return registry.load()

    # -- credentials: explicit, then env, then the daemon's store ---------------------

    def auth_resolve(self, provider: str, api_key: str | None = None) -> Resolution:
        """Resolve ``provider``'s credential by precedence: ``api_key``, its environment
        variable, then the daemon's store (``nxuskit.auth_resolve``)."""
        if not api_key:
            kept = self.reuse.get(provider)
            if kept is not None:
                return kept
        resolve = precedence.Resolve(self.reuse, provider, api_key)
        if resolve.done is not None:
            return resolve.done
        return resolve.finish(self.call(protocol.RESOLVE, resolve.params))

    def auth_status(self, provider: str, api_key: str | None = None) -> AuthStatus:
        """One provider's status, by the same precedence (``nxuskit.auth_status``)."""
        spec = registry.load().get(provider)
        local = precedence.status_locally(spec, api_key)
        if local is not None:
            return local
        result = Statuses.from_wire(
            self.call(protocol.STATUS, {"provider": spec.name}), protocol.STATUS
        )
        entries = {entry.provider: entry for entry in result.providers}
        return precedence.status_from(spec, entries.get(spec.name))

    def auth_status_all(self) -> list[AuthStatus]:
        """Every known provider's status, in registry order (``nxuskit.auth_status_all``)."""
        return self.auth_status_report().statuses

    def auth_status_report(self, provider: str | None = None) -> StatusReport:
        """Statuses plus the daemon's store (``nxuskit.auth_status_report``)."""
        reg = registry.load()
        specs = reg.providers if provider is None else [reg.get(provider)]
        local = precedence.status_locally(specs[0]) if provider is not None else None
        if local is not None:
            return StatusReport([local], None)
        params = {} if provider is None else {"provider": specs[0].name}
        result = Statuses.from_wire(self.call(protocol.STATUS, params), protocol.STATUS)
        entries = {entry.provider: entry for entry in result.providers}
        statuses = [precedence.status_from(spec, entries.get(spec.name)) for spec in specs]
        return StatusReport(statuses, result.store, result.orphans, result.team)

    def auth_set_credential(self, provider: str, secret: str) -> Stored:
        """Store ``secret`` as ``provider``'s API key (``nxuskit.auth_set_credential``);
        the daemon's answer says whether it replaced a stored credential."""
        # The daemon applies the same rule; checking here too keeps a bad key off the
        # socket and gives the error without a round trip.
        from nxuskit.credential import check_secret

        spec = registry.load().get(provider)
        params = {"provider": spec.name, "secret": check_secret(secret)}
        result = self.call(protocol.SET_CREDENTIAL, params)
        return Stored.from_wire(result, protocol.SET_CREDENTIAL)

    def auth_remove_credential(self, provider: str) -> bool:
        """Remove ``provider``'s stored credential; True if one was stored (a known
        provider, or the exact stored name of an orphan: ``StatusReport.orphans``)."""
        reg = registry.load()
        spec = reg.find(provider) if isinstance(provider, str) else reg.get(provider)
        # An unknown name may be an orphan: only the daemon knows what is stored.
        name = provider if spec is None else spec.name
        result = self.call(protocol.REMOVE_CREDENTIAL, {"provider": name})
        return Removed.from_wire(result, protocol.REMOVE_CREDENTIAL).removed

    # -- OAuth logins: the daemon holds the verifier, the listener and the tokens -----

    def auth_login_start(
        self, provider: str, device: bool = False, timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT
    ) -> LoginStart:
        """Start an OAuth login in the daemon (``nxuskit.auth_login_start``)."""
        spec = registry.load().get(provider)
        params: dict[str, Any] = {"provider": spec.name, "timeout": float(timeout)}
        if device:
            params["device"] = True
        result = self.call(protocol.LOGIN_START, params)
        return LoginStart.from_wire(result, protocol.LOGIN_START)

    def auth_login_wait(self, login_id: str, timeout: float | None = None) -> LoginResult | None:
        """Wait for a started login (``nxuskit.auth_login_wait``), on a connection of its
        own so that this client's other calls (from other threads) are not held up."""
        deadline = None if timeout is None else time.monotonic() + timeout
        conn = self.open_connection()
        try:
            while True:
                step = protocol.LOGIN_WAIT_MAX
                if deadline is not None:
                    step = min(step, max(deadline - time.monotonic(), 0.0))
                answer = conn.call(protocol.LOGIN_WAIT, {"login_id": login_id, "timeout": step})
                if not isinstance(answer, dict) or answer.get("status") != "pending":
                    return LoginResult.from_wire(answer, protocol.LOGIN_WAIT)
                if deadline is not None and time.monotonic() >= deadline:
                    return None
        finally:
            conn.close()

    def auth_login_cancel(self, login_id: str) -> bool:
        """Cancel a login in the daemon (``nxuskit.auth_login_cancel``)."""
        result = self.call(protocol.LOGIN_CANCEL, {"login_id": login_id})
        return Cancelled.from_wire(result, protocol.LOGIN_CANCEL).cancelled

    def auth_login(
        self,
        provider: str,
        on_start: Callable[[LoginStart], object] | None = None,
        device: bool = False,
        timeout: float = protocol.LOGIN_TIMEOUT_DEFAULT,
    ) -> LoginResult:
        """Log in and wait for the stored tokens; cancel in the daemon when interrupted
        (``nxuskit.auth_login``)."""
        begun = self.auth_login_start(provider, device, timeout)
        try:
            if on_start is not None:
                on_start(begun)
            result = self.auth_login_wait(begun.login_id)
        except BaseException:
            import contextlib

            with contextlib.suppress(Exception):  # the original error is the one to report
                self.auth_login_cancel(begun.login_id)
            raise
        assert result is not None
        return result

    def auth_logout(self, provider: str) -> LoggedOut:
        """Revoke and delete ``provider``'s login (``nxuskit.auth_logout``)."""
        spec = registry.load().get(provider)
        result = self.call(protocol.LOGOUT, {"provider": spec.name})
        return LoggedOut.from_wire(result, protocol.LOGOUT)

    def auth_report_invalid(self, provider: str, secret: str | None = None) -> bool:
        """Report a rejected token; the daemon refreshes once (``nxuskit.auth_report_invalid``)."""
        spec = registry.load().get(provider)
        params: dict[str, Any] = {"provider": spec.name}
        if secret is not None:
            import hashlib

            params["token_sha256"] = hashlib.sha256(secret.encode("utf-8")).hexdigest()
        answer = self.call(protocol.REPORT_INVALID, params)
        return Reported.from_wire(answer, protocol.REPORT_INVALID).refreshed

    # -- the daemon and its store -------------------------------------------------------

    def daemon_status(self) -> DaemonStatus:
        """The daemon's pid, version, uptime, socket, store... (``nxuskit.daemon_status``)."""
        result = self.call(protocol.DAEMON_STATUS, {})
        return DaemonStatus.from_wire(result, protocol.DAEMON_STATUS)

    def daemon_lock(self) -> int:
        """Make the daemon forget its cached secrets; how many (``nxuskit.daemon_lock``)."""
        result = self.call(protocol.DAEMON_LOCK, {})
        return Locked.from_wire(result, protocol.DAEMON_LOCK).forgotten

    def store_info(self) -> StoreInfo:
        """The store the daemon uses, and why (``nxuskit.store_info``)."""
        return self.daemon_status().store

    def store_migrate(self, to: str) -> Migration:
        """Move every credential to the ``to`` store, one of ``protocol.STORE_KINDS``
        (``nxuskit.store_migrate``)."""
        if to not in protocol.STORE_KINDS:
            from nxuskit.errors import InvalidArgument

            kinds = " or ".join(repr(kind) for kind in protocol.STORE_KINDS)
            raise InvalidArgument(f"migrate to {kinds}, not {to!r}")
        result = self.call(protocol.STORE_MIGRATE, {"to": to})
        return Migration.from_wire(result, protocol.STORE_MIGRATE)

    def audit_query(
        self, provider: str | None = None, since: float | None = None, limit: int | None = None
    ) -> AuditTrail:
        """The daemon's audit trail, oldest first (``nxuskit.audit.audit_query``)."""
        params: dict[str, Any] = {}
        if provider is not None:
            params["provider"] = provider
        if since is not None:
            params["since"] = float(since)
        if limit is not None:
            params["limit"] = limit
        result = self.call(protocol.AUDIT_QUERY, params)
        return AuditTrail.from_wire(result, protocol.AUDIT_QUERY)

    # -- the team store (OpenBao or Vault, ``[team]`` in config.toml) -------------------

    def team_status(self) -> TeamInfo:
        """The team store as the daemon sees it now: it checks its token (TTL, policies;
        never the token itself) and whether the store answers."""
        return TeamInfo.from_wire(self.call(protocol.TEAM_STATUS, {}), protocol.TEAM_STATUS)

    def team_login(self, secret: str) -> TeamInfo:
        """Give the daemon its team credential: the token (``auth = "token"``) or the
        AppRole secret_id (``auth = "approle"``); checked with the store, then kept in the
        personal store, never in config.toml."""
        from nxuskit.credential import check_secret

        result = self.call(protocol.TEAM_LOGIN, {"secret": check_secret(secret)})
        return TeamInfo.from_wire(result, protocol.TEAM_LOGIN)

    def team_logout(self) -> TeamLoggedOut:
        """Delete the stored team credential; the daemon forgets its team token and keys."""
        result = self.call(protocol.TEAM_LOGOUT, {})
        return TeamLoggedOut.from_wire(result, protocol.TEAM_LOGOUT)

    def team_set_credential(self, provider: str, secret: str) -> TeamStored:
        """Write ``secret`` as a new version of ``provider``'s key in the team store
        (where its policy allows writes)."""
        from nxuskit.credential import check_secret

        spec = registry.load().get(provider)
        params = {"provider": spec.name, "secret": check_secret(secret)}
        result = self.call(protocol.TEAM_SET_CREDENTIAL, params)
        return TeamStored.from_wire(result, protocol.TEAM_SET_CREDENTIAL)


_default: Client | None = None


def default_client() -> Client:
    """The per-process Client the module functions use."""
    global _default  # noqa: PLW0603 - one default connection per process, by design
    client = _default
    if client is None:
        client = _default = Client()
    return client


def set_default_client(client: Client | None) -> None:
    """Make ``client`` the one the module functions use (None: a new default on next use).
    The previous default's connection is closed."""
    global _default
    previous, _default = _default, client
    if previous is not None and previous is not client:
        previous.close()


def reset_default() -> None:
    """Close the default Client's connection (the next call opens a new one)."""
    if _default is not None:
        _default.close()
