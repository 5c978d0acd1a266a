"""The team store's HTTP side: hvac calls to OpenBao or Vault, across a cluster's nodes.

Blocking, as hvac and requests are: ``nxuskitd.team.service`` runs every call in a
worker thread with a timeout, so the event loop (and every personal key) never waits on
it. Each call tries the node that answered last, then the others in order: a node that
is down, sealed, or has no leader yet (a Raft election) answers a connection error or a
5xx, and the next one is asked; one that answers decides (a denial is a denial).

Errors become nxuskit's (``TeamUnreachable`` is a ``store_unavailable``, ``TeamDenied`` a
``permission_denied``, ...), with the node and the store's own reason, never a token or a
secret: the messages are built here, from the status and the store's ``errors`` list,
with every secret of the call scrubbed out. The environment does not steer requests
(``trust_env`` off: no proxy, netrc or CA bundle from variables): TLS trusts the system's
CAs, or ``ca_file`` alone. hvac (and requests) are imported with this module, which only
a daemon with a ``[team]`` loads.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import socket
from collections.abc import Callable
from typing import Any, TypeVar

import hvac
import hvac.exceptions
import requests

from nxuskit.errors import InvalidArgument, NotAuthenticated, PermissionDenied, StoreUnavailable
from nxuskitd.team.settings import TeamSettings

log = logging.getLogger(__name__)
T = TypeVar("T")
# urllib3 logs every request line at debug; the daemon's log says what matters itself.
logging.getLogger("urllib3").setLevel(logging.WARNING)
_UNAVAILABLE = (
    hvac.exceptions.VaultDown,
    hvac.exceptions.InternalServerError,
    hvac.exceptions.BadGateway,
    hvac.exceptions.VaultNotInitialized,
    hvac.exceptions.RateLimitExceeded,
    hvac.exceptions.UnexpectedError,
)
_REFUSED = (
    hvac.exceptions.InvalidRequest,
    hvac.exceptions.ParamValidationError,
    hvac.exceptions.PreconditionFailed,
    hvac.exceptions.UnsupportedOperation,
)


class TeamUnreachable(StoreUnavailable):
    """No node answered: down, sealed, without a leader, or too slow."""


class TeamDenied(PermissionDenied):
    """A node refused the token (403): a policy without this path, or a token it no
    longer knows (revoked, expired)."""


class TeamMissing(NotAuthenticated):
    """No secret at the path (or no such field in it)."""


class TeamRefused(InvalidArgument):
    """A node refused the request as malformed (400): an AppRole login with a wrong
    role_id or secret_id, a write whose check-and-set lost a race."""


@dataclasses.dataclass(frozen=True)
class TokenInfo:
    """What the store says of a token: seconds left (0: it never expires), whether it
    can be renewed, its policies. Never the token itself."""

    ttl: float
    renewable: bool
    policies: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Secret:
    """A key read from the store: its ``value``, ``version`` and the node that served it."""

    value: str
    version: int | None
    address: str

    def __repr__(self) -> str:
        return f"Secret(value='***', version={self.version}, address={self.address!r})"


class Vault:
    """The nodes of one team store, and the calls nxuskitd makes to them."""

    def __init__(self, settings: TeamSettings) -> None:
        self.settings = settings
        self._current = 0
        # hvac clients are not shared between threads (each carries its token): a call
        # takes one from its node's pool and puts it back, keeping connections alive.
        self._pools = [queue.SimpleQueue[hvac.Client]() for _ in settings.addresses]

    @property
    def address(self) -> str:
        """The node that answered last (the first, before any call)."""
        return self.settings.addresses[self._current]

    # -- the calls -------------------------------------------------------------------

    def login_approle(self, role_id: str, secret_id: str) -> tuple[str, TokenInfo]:
        """A token from an AppRole login, and what the store says of it."""

        def action(client: hvac.Client) -> dict[str, Any]:
            return client.auth.approle.login(  # type: ignore[no-any-return]
                role_id=role_id,
                secret_id=secret_id,
                mount_point=self.settings.approle_mount,
                use_token=False,
            )

        answer = self.on_nodes(action, None, hidden=(role_id, secret_id))
        auth = answer["auth"]
        return str(auth["client_token"]), _token_info(auth, "lease_duration")

    def lookup(self, token: str) -> TokenInfo:
        """What the store says of ``token`` (TeamDenied: it does not know it)."""
        answer = self.on_nodes(lambda client: client.auth.token.lookup_self(), token)
        return _token_info(answer["data"], "ttl")

    def renew(self, token: str) -> TokenInfo:
        """Renew ``token`` for its usual TTL; what the store says of it afterwards."""
        answer = self.on_nodes(lambda client: client.auth.token.renew_self(), token)
        return _token_info(answer["auth"], "lease_duration")

    def revoke(self, token: str) -> None:
        """Revoke ``token`` (one the daemon logged in for, at logout)."""
        self.on_nodes(lambda client: client.auth.token.revoke_self(), token)

    def read(self, token: str, path: str, field: str) -> Secret:
        """The ``field`` of the latest version of the KV v2 secret at ``path``."""
        data, version, address = self._read(token, path)
        shown = f"{self.settings.mount}/{path}"
        if field not in data:
            fields = ", ".join(sorted(data)) or "none"
            raise TeamMissing(f"{shown} has no field {field!r} (its fields: {fields})")
        value = data[field]
        if not isinstance(value, str) or not value:
            raise TeamMissing(f"{shown}: its field {field!r} is not a non-empty string")
        return Secret(value, version, address)

    def write(self, token: str, path: str, field: str, value: str) -> tuple[int, str]:
        """Write ``value`` as ``field`` of a new version of ``path`` (its other fields
        kept); the new version and the node. Check-and-set: a version written meanwhile
        by someone else makes it fail (TeamRefused) instead of being lost."""
        try:
            data, cas, _ = self._read(token, path)
        except TeamMissing:
            data, cas = {}, 0
        except TeamDenied:  # a policy that may write but not read: no merge, no check
            data, cas = {}, None

        def action(client: hvac.Client) -> dict[str, Any]:
            return client.secrets.kv.v2.create_or_update_secret(  # type: ignore[no-any-return]
                path=path,
                secret={**data, field: value},
                cas=cas,
                mount_point=self.settings.mount,
            )

        answer = self.on_nodes(action, token, hidden=(value, *map(str, data.values())))
        return int(answer["data"]["version"]), self.address

    def _read(self, token: str, path: str) -> tuple[dict[str, Any], int | None, str]:
        def action(client: hvac.Client) -> dict[str, Any]:
            return client.secrets.kv.v2.read_secret_version(  # type: ignore[no-any-return]
                path=path, mount_point=self.settings.mount, raise_on_deleted_version=True
            )

        try:
            answer = self.on_nodes(action, token)
        except TeamMissing:
            raise TeamMissing(f"no secret at {self.settings.mount}/{path}") from None
        body = answer["data"]
        version = body.get("metadata", {}).get("version")
        data = body.get("data") or {}
        return data, version if isinstance(version, int) else None, self.address

    # -- nodes and errors --------------------------------------------------------------

    def on_nodes(
        self,
        action: Callable[[hvac.Client], T],
        token: str | None,
        hidden: tuple[str, ...] = (),
    ) -> T:
        """``action`` on the node that answered last, then on each other one while nodes
        are unreachable. Raises TeamUnreachable naming every node tried and why."""
        count = len(self.settings.addresses)
        reasons = []
        for step in range(count):
            index = (self._current + step) % count
            try:
                result = self._attempt(index, action, token, (*hidden, token or ""))
            except TeamUnreachable as error:
                reasons.append(f"{self.settings.addresses[index]}: {error.message}")
                continue
            if reasons:
                log.info(
                    "team: %s answers (%s)", self.settings.addresses[index], "; ".join(reasons)
                )
            self._current = index
            return result
        raise TeamUnreachable("; ".join(reasons))

    def _attempt(
        self,
        index: int,
        action: Callable[[hvac.Client], T],
        token: str | None,
        hidden: tuple[str, ...],
    ) -> T:
        pool = self._pools[index]
        try:
            client = pool.get_nowait()
        except queue.Empty:
            client = self._client(self.settings.addresses[index])
        client.token = token or ""
        try:
            return action(client)
        except requests.exceptions.RequestException as exc:
            raise TeamUnreachable(self._transport_reason(exc)) from None
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized) as exc:
            raise TeamDenied(_reason(exc, hidden) or "permission denied") from None
        except hvac.exceptions.InvalidPath:
            raise TeamMissing("not found") from None
        except _UNAVAILABLE as exc:
            raise TeamUnreachable(f"answered {_status(exc)}: {_reason(exc, hidden)}") from None
        except _REFUSED as exc:
            raise TeamRefused(_reason(exc, hidden) or "the request was refused") from None
        finally:
            client.token = ""
            pool.put(client)

    def _client(self, address: str) -> hvac.Client:
        session = requests.Session()
        session.trust_env = False  # no proxy, netrc or CA bundle from the environment
        verify: bool | str = self.settings.ca_file or True
        session.verify = verify
        return hvac.Client(
            url=address,
            token="",  # never None: hvac would read VAULT_TOKEN or ~/.vault-token
            verify=verify,
            timeout=self.settings.timeout,
            session=session,
            namespace=self.settings.namespace,
        )

    def _transport_reason(self, exc: requests.exceptions.RequestException) -> str:
        if isinstance(exc, requests.exceptions.SSLError):
            fix = "check ca_file" if self.settings.ca_file else "set ca_file to its CA"
            return f"TLS verification failed ({_ssl_reason(exc)}): {fix}"
        if isinstance(exc, requests.exceptions.Timeout):
            return f"no answer within {self.settings.timeout:g} s"
        cause: BaseException | None = exc
        while cause is not None:
            if isinstance(cause, ConnectionRefusedError):
                return "connection refused"
            if isinstance(cause, socket.gaierror):
                return "unknown host"
            cause = cause.__cause__ or cause.__context__ or _first_arg(cause)
        return f"cannot connect ({type(exc).__name__})"


def _first_arg(exc: BaseException) -> BaseException | None:
    """urllib3 wraps the socket's error in its arguments, not as a cause."""
    reason = getattr(exc, "reason", None)
    if isinstance(reason, BaseException):
        return reason
    arg = exc.args[0] if exc.args else None
    return arg if isinstance(arg, BaseException) else None


def _ssl_reason(exc: BaseException) -> str:
    text = str(exc)
    for known in ("certificate verify failed", "hostname mismatch", "wrong version number"):
        if known in text:
            return known
    return "handshake failed"


def _status(exc: hvac.exceptions.VaultError) -> str:
    codes = {
        hvac.exceptions.VaultDown: "503 (sealed or standby)",
        hvac.exceptions.InternalServerError: "500",
        hvac.exceptions.BadGateway: "502",
        hvac.exceptions.VaultNotInitialized: "501 (not initialised)",
        hvac.exceptions.RateLimitExceeded: "429 (rate limited)",
    }
    return codes.get(type(exc), "an unexpected status")


def _reason(exc: hvac.exceptions.VaultError, hidden: tuple[str, ...]) -> str:
    """The store's own ``errors``, short, with every secret of the call scrubbed out."""
    errors = getattr(exc, "errors", None)
    parts = [str(item) for item in errors] if isinstance(errors, list) else []
    text = "; ".join(part.strip() for part in parts if part.strip())[:300]
    for secret in hidden:
        if secret:
            text = text.replace(secret, "***")
    return text


def _token_info(body: dict[str, Any], ttl_key: str) -> TokenInfo:
    policies = body.get("policies") or body.get("token_policies") or []
    return TokenInfo(
        ttl=float(body.get(ttl_key) or 0),
        renewable=bool(body.get("renewable")),
        policies=tuple(sorted(str(policy) for policy in policies)),
    )
