"""Token responses turned into stored records, and when a token is due for refresh."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping

from nxuskit import protocol
from nxuskit.errors import LoginFailed
from nxuskitd.stores import Record

REFRESH_MARGIN = 300.0
"""Refresh this long before expiry at most (seconds); short-lived tokens use half their life."""

MAX_TOKEN_BYTES = protocol.MAX_SECRET_BYTES
MAX_LIFETIME = 10 * 365 * 24 * 3600.0


@dataclasses.dataclass(frozen=True, repr=False)
class TokenSet:
    """A checked token endpoint answer (its repr shows no token)."""

    access_token: str
    token_type: str | None = None
    expires_in: float | None = None
    refresh_token: str | None = None
    scope: str | None = None

    def __repr__(self) -> str:
        return f"TokenSet(token_type={self.token_type!r}, expires_in={self.expires_in!r})"

    @classmethod
    def from_response(cls, answer: Mapping[str, object]) -> TokenSet:
        """Check a token response (RFC 6749 section 5.1); LoginFailed when malformed."""
        access = answer.get("access_token")
        if not isinstance(access, str) or not access or len(access) > MAX_TOKEN_BYTES:
            raise LoginFailed("the token endpoint answered without a usable access_token")
        refresh = answer.get("refresh_token")
        if refresh is not None and (not isinstance(refresh, str) or len(refresh) > MAX_TOKEN_BYTES):
            raise LoginFailed("the token endpoint answered with a malformed refresh_token")
        expires_in = answer.get("expires_in")
        if isinstance(expires_in, str) and expires_in.isdigit():  # some servers send "3600"
            expires_in = int(expires_in)
        lifetime: float | None = None
        if isinstance(expires_in, (int, float)) and not isinstance(expires_in, bool):
            lifetime = min(max(float(expires_in), 0.0), MAX_LIFETIME)
        token_type, scope = answer.get("token_type"), answer.get("scope")
        return cls(
            access_token=access,
            token_type=token_type if isinstance(token_type, str) else None,
            expires_in=lifetime,
            refresh_token=refresh or None,
            scope=scope if isinstance(scope, str) else None,
        )

    def to_record(self, previous: Record | None = None, now: float | None = None) -> Record:
        """The record to store; a refresh that returned no new refresh token (or scope)
        keeps the previous one, as RFC 6749 section 6 allows."""
        now = time.time() if now is None else now
        return Record(
            secret=self.access_token,
            auth_method=protocol.OAUTH,
            updated_at=now,
            expires_at=now + self.expires_in if self.expires_in is not None else None,
            refresh_token=self.refresh_token or (previous.refresh_token if previous else None),
            scope=self.scope or (previous.scope if previous else None),
            token_type=self.token_type,
        )


def api_key_record(key: str, now: float | None = None) -> Record:
    """The record of an API key obtained through an OAuth flow (OpenRouter's)."""
    return Record(
        secret=key, auth_method=protocol.OAUTH, updated_at=time.time() if now is None else now
    )


def refresh_margin(record: Record) -> float:
    """How long before expiry a refresh is due: five minutes, or half of a shorter life."""
    if record.expires_at is None:
        return 0.0
    lifetime = max(record.expires_at - record.updated_at, 0.0)
    return min(REFRESH_MARGIN, lifetime / 2)


def needs_refresh(record: Record, now: float | None = None) -> bool:
    """True when ``record``'s access token is expired or within its refresh margin."""
    if record.expires_at is None:
        return False
    now = time.time() if now is None else now
    return now >= record.expires_at - refresh_margin(record)


def is_expired(record: Record, now: float | None = None) -> bool:
    """True when ``record``'s access token is past its expiry."""
    now = time.time() if now is None else now
    return record.expires_at is not None and now >= record.expires_at
