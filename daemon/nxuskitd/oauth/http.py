"""Talking to the authorization server: authlib's OAuth 2.0 client over httpx2 (async,
so no call blocks the event loop).

authlib and httpx2 cost ~150 ms to import, so they are imported on first use: a daemon
that serves only API keys never loads them. Errors come out as two exceptions:
``TokenError`` (the server answered with an OAuth error such as ``invalid_grant``) and
``EndpointUnavailable`` (no usable answer: network, timeout, 5xx, not JSON). An HTTP
error keeps its status code and a short detail from the body ("answered HTTP 500:
database unavailable"), so a failing server is not mistaken for a slow one. Neither
carries a token: whatever the server sent is cleaned to one printable line, capped, and
any run of 20 or more token characters in it is cut out (a server may echo a request).
"""

from __future__ import annotations

import contextlib
import logging
import re
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlencode, urlsplit

from nxuskit import __version__
from nxuskitd.oauth import pkce
from nxuskitd.oauth.settings import DEVICE_GRANT, OAuthSettings
from nxuskitd.oauth.tokens import TokenSet

HTTP_TIMEOUT = 20.0
USER_AGENT = f"nxuskitd/{__version__}"
# httpx2 logs each request line at INFO; keep the daemon's log to what the daemon says.
for _name in ("httpx2", "httpcore2", "authlib"):
    logging.getLogger(_name).setLevel(logging.WARNING)


def clean(text: object, limit: int = 200) -> str:
    """A server-supplied string made safe to show: printable, one line, capped."""
    if not isinstance(text, str):
        return ""
    return re.sub(r"[^\x20-\x7e]", "?", text)[:limit]


_TOKEN_LIKE = re.compile(r"[A-Za-z0-9._~+/=-]{20,}")


def detail(text: object, limit: int = 120) -> str:
    """A server's error text fit for a message and a log: its first non-empty line,
    cleaned, without anything that could be a token."""
    if not isinstance(text, str):
        return ""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return clean(_TOKEN_LIKE.sub("[...]", line), limit)


def http_problem(where: str, response: Any) -> str:
    """ "WHERE answered HTTP 500: DETAIL", from an HTTP answer that is not a success."""
    body = _json(response)
    error = body.get("error")
    if isinstance(error, dict):  # {"error": {"message": ...}} (OpenRouter and others)
        error = error.get("message")
    text = body.get("error_description") or error or body.get("message") or body.get("detail")
    if not body:
        text = getattr(response, "text", "")
    shown = detail(text)
    return f"{where} answered HTTP {response.status_code}" + (f": {shown}" if shown else "")


class TokenError(Exception):
    """The server answered with an OAuth error (``error`` and a cleaned description)."""

    def __init__(self, error: object, description: object = None) -> None:
        self.error = clean(error, 64) or "unknown_error"
        self.description = clean(description)
        super().__init__(self.explained)

    @property
    def explained(self) -> str:
        """``error`` with its description, for messages."""
        return f"{self.error} ({self.description})" if self.description else self.error


class EndpointUnavailable(Exception):
    """No usable answer from the server (network, timeout, HTTP 5xx, malformed body)."""


def host_of(url: str) -> str:
    """The host[:port] of ``url``, for messages and logs (never the query)."""
    return urlsplit(url).netloc or url


@contextlib.asynccontextmanager
async def _client(settings: OAuthSettings, **kwargs: Any) -> AsyncIterator[Any]:
    from authlib.integrations.httpx_client import AsyncOAuth2Client

    client = AsyncOAuth2Client(
        client_id=settings.client_id,
        token_endpoint_auth_method="none",  # noqa: S106 - a native public client: PKCE, no secret
        revocation_endpoint_auth_method="none",
        code_challenge_method="S256",
        timeout=HTTP_TIMEOUT,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json"},
        **kwargs,
    )
    async with client:
        try:
            yield client
        except (TokenError, EndpointUnavailable):
            raise
        except Exception as exc:
            error = getattr(exc, "error", None)
            if isinstance(error, str):  # authlib's OAuthError
                raise TokenError(error, getattr(exc, "description", None)) from None
            raise EndpointUnavailable(_failure(exc, host_of(settings.token_url))) from None


def _failure(exc: Exception, where: str) -> str:
    """What went wrong talking to ``where``: the HTTP status and detail when there was an
    answer (authlib raises HTTPStatusError for a 5xx or a body that is not JSON)."""
    import httpx2

    if isinstance(exc, httpx2.HTTPStatusError):
        return http_problem(where, exc.response)
    return f"{where} gave no usable answer ({type(exc).__name__})"


async def authorization_url(
    settings: OAuthSettings, redirect_uri: str, state: str | None, verifier: str
) -> str:
    """The URL the user opens to authorize this login (PKCE S256 challenge included)."""
    if settings.yields_api_key:  # OpenRouter: callback_url and the challenge, nothing else
        query = urlencode(
            {
                "callback_url": redirect_uri,
                "code_challenge": pkce.challenge(verifier),
                "code_challenge_method": "S256",
            }
        )
        separator = "&" if "?" in settings.authorize_url else "?"
        return f"{settings.authorize_url}{separator}{query}"
    async with _client(settings, redirect_uri=redirect_uri, scope=settings.scope) as client:
        url, _ = client.create_authorization_url(
            settings.authorize_url,
            state=state,
            code_verifier=verifier,
            **dict(settings.extra_authorize_params),
        )
    return str(url)


async def exchange_code(
    settings: OAuthSettings, code: str, verifier: str, redirect_uri: str
) -> TokenSet:
    """Trade an authorization code (and its verifier) for tokens at the token endpoint."""
    async with _client(settings, redirect_uri=redirect_uri) as client:
        answer = await client.fetch_token(
            settings.token_url,
            grant_type="authorization_code",
            code=code,
            code_verifier=verifier,
        )
    return TokenSet.from_response(dict(answer))


async def refresh(settings: OAuthSettings, refresh_token: str) -> TokenSet:
    """Use ``refresh_token`` once; the answer may hold a rotated refresh token."""
    async with _client(settings) as client:
        answer = await client.refresh_token(settings.token_url, refresh_token=refresh_token)
    return TokenSet.from_response(dict(answer))


async def revoke(settings: OAuthSettings, token: str, hint: str) -> None:
    """Revoke ``token`` (RFC 7009); TokenError or EndpointUnavailable when refused."""
    if settings.revocation_url is None:
        return
    async with _client(settings) as client:
        response = await client.revoke_token(
            settings.revocation_url, token=token, token_type_hint=hint
        )
        if response.status_code >= 500:
            raise EndpointUnavailable(http_problem(host_of(settings.revocation_url), response))
        if response.status_code != 200:
            body = _json(response)
            raise TokenError(body.get("error") or f"http_{response.status_code}")


async def device_authorize(settings: OAuthSettings) -> dict[str, Any]:
    """Start a device authorization (RFC 8628 section 3.1); the raw, unchecked answer."""
    if settings.device_authorization_url is None:
        raise TokenError("no_device_flow")
    form = {"client_id": settings.client_id or ""}
    if settings.scope:
        form["scope"] = settings.scope
    async with _client(settings) as client:
        response = await client.post(settings.device_authorization_url, data=form, auth=None)
        if response.status_code >= 500:
            where = host_of(settings.device_authorization_url)
            raise EndpointUnavailable(http_problem(where, response))
        body = _json(response)
        if response.status_code != 200 or "error" in body:
            raise TokenError(body.get("error") or "invalid_request", body.get("error_description"))
    return body


async def device_token(settings: OAuthSettings, device_code: str) -> TokenSet:
    """Poll the token endpoint once for a device code (RFC 8628 section 3.4)."""
    async with _client(settings) as client:
        answer = await client.fetch_token(
            settings.token_url, grant_type=DEVICE_GRANT, device_code=device_code
        )
    return TokenSet.from_response(dict(answer))


async def openrouter_key(settings: OAuthSettings, code: str, verifier: str) -> str:
    """OpenRouter's exchange: POST the code and verifier as JSON, get ``{"key": ...}``."""
    import httpx2

    try:
        async with httpx2.AsyncClient(
            timeout=HTTP_TIMEOUT, headers={"User-Agent": USER_AGENT}
        ) as client:
            response = await client.post(
                settings.token_url,
                json={"code": code, "code_verifier": verifier, "code_challenge_method": "S256"},
            )
    except httpx2.HTTPError as exc:
        raise EndpointUnavailable(
            f"{host_of(settings.token_url)} gave no answer ({type(exc).__name__})"
        ) from None
    if response.status_code >= 500:
        raise EndpointUnavailable(http_problem(host_of(settings.token_url), response))
    body = _json(response)
    key = body.get("key")
    if response.status_code != 200 or not isinstance(key, str) or not key:
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        raise TokenError(f"http_{response.status_code}", message)
    return key


def _json(response: Any) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
