"""PKCE (RFC 7636, S256 only) and the ``state`` value: fresh per login, compared in
constant time.

authlib's ``generate_token`` defaults to 30 characters, below RFC 7636's minimum of 43,
so verifiers come from ``secrets`` here: 64 random bytes, 86 URL-safe characters.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

VERIFIER_BYTES = 64
"""Random bytes in a verifier: base64url gives 86 characters, inside RFC 7636's 43-128."""


def new_verifier() -> str:
    """A fresh code verifier (86 characters of ``[A-Za-z0-9_-]``)."""
    return secrets.token_urlsafe(VERIFIER_BYTES)


def challenge(verifier: str) -> str:
    """The S256 code challenge of ``verifier``: base64url(sha256(verifier)), unpadded."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_state() -> str:
    """A fresh, unguessable ``state`` for one authorization request."""
    return secrets.token_urlsafe(32)


def same_secret(received: str | None, expected: str) -> bool:
    """Whether ``received`` equals ``expected``, compared in constant time."""
    if received is None:
        return False
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def fingerprint(token: str) -> str:
    """The SHA-256 hex digest a client sends to name a token without sending it."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
