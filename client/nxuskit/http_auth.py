"""Auth for httpx and requests: every request carries the provider's current credential.

::

    import httpx, requests, nxuskit

    httpx.Client(auth=nxuskit.HttpxAuth("openai"))          # httpx.AsyncClient too
    requests.get(url, auth=nxuskit.RequestsAuth("claude"))

Each request gets the credential ``auth_resolve`` gives at that moment (explicit is not
offered here: the environment variable, then the store or a login), in the header the
provider's API reads, from the registry (``ProviderSpec.key_header``):
``Authorization: Bearer KEY`` for OpenAI-compatible APIs, ``x-api-key`` for Anthropic's
(with ``anthropic-version``, which its API requires, unless the request has one),
``x-goog-api-key`` for Gemini, ``api-key`` for Azure OpenAI. A provider that needs no
credential (a local server) gets no header.

**A 401.** When the credential came from the daemon, the adapter tries once more: for
a login (OAuth) it reports the rejected token (``auth_report_invalid``: the daemon
refreshes it once, whoever else reports it too), resolves again and resends the request
with the new token. An API key has nothing to refresh: the request is resent only if
the store holds another key by now (``nxuskit-cli provider set`` meanwhile); otherwise,
and for a key from the environment, the 401 is returned as it came. A login that can
no longer be refreshed returns the 401 too (``nxuskit-cli provider login`` fixes it).

**Redirects.** requests follows redirects by default and drops only ``Authorization``
when one leaves the origin; ``RequestsAuth`` drops its own header too (x-api-key and the
like), so the key goes to the origin it was asked for only. httpx follows redirects only
when asked (``follow_redirects=True``) and then also drops only ``Authorization``: keep
that off for providers whose key travels in another header.

Neither httpx nor requests is imported with this module (the client stays light): the
classes become subclasses of ``httpx.Auth`` and ``requests.auth.AuthBase`` when the first
one is made, so ``import nxuskit`` never loads them.
"""

from __future__ import annotations

from nxuskit import protocol, registry
from nxuskit.errors import InvalidArgument, LoginFailed, NotAuthenticated
from nxuskit.providers import BEARER

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Generator, MutableMapping
    from typing import Any

    import httpx
    import requests

    from nxuskit.aio import Client as AsyncClient
    from nxuskit.answers import Resolution
    from nxuskit.client import Client
    from nxuskit.registry import ProviderSpec

__all__ = ["HttpxAuth", "RequestsAuth", "credential_headers"]

UNAUTHORIZED = 401
_RENEWABLE = (protocol.SOURCE_STORE, protocol.SOURCE_OAUTH)


def credential_headers(spec: ProviderSpec, secret: str | None) -> dict[str, str]:
    """The headers that carry ``secret`` to ``spec``'s API (none without a secret), and
    the fixed ones its API requires (``verify_headers``, such as ``anthropic-version``).

    Raises InvalidArgument when the secret holds a character no header may carry (a
    line break, say): HTTP libraries would quote it in their error, key and all.
    """
    headers = dict(spec.verify_headers)
    if secret is None:
        return headers
    if any(ord(char) < 0x20 or ord(char) == 0x7F for char in secret):
        raise InvalidArgument(
            f"the {spec.name} credential holds a control character (a line break?) and "
            "cannot be sent in an HTTP header: set it again without one"
        )
    if spec.key_header == BEARER:
        headers["Authorization"] = f"Bearer {secret}"
    else:
        headers[spec.key_header] = secret
    return headers


def _apply(headers: MutableMapping[str, Any], spec: ProviderSpec, secret: str | None) -> str:
    """Put the credential's headers on a request; the name of the one with the key."""
    found = credential_headers(spec, secret)
    key_name = "Authorization" if spec.key_header == BEARER else spec.key_header
    for name, value in found.items():
        if name == key_name or name not in headers:  # the app's own fixed headers stay
            headers[name] = value
    return key_name


_bound: dict[type, type] = {}


def _bind(cls: type, module: str, base: str) -> type:
    """``cls`` joined with ``module.base`` (imported now, once)."""
    joined = _bound.get(cls)
    if joined is None:
        import importlib

        try:
            library = importlib.import_module(module)
        except ImportError:
            package = module.split(".", maxsplit=1)[0]
            raise ImportError(
                f"nxuskit.{cls.__name__} needs {package}: pip install {package}"
            ) from None
        namespace = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
        joined = _bound[cls] = type(cls.__name__, (cls, getattr(library, base)), namespace)
    return joined


class _Adapter:
    """What both adapters share: which provider, which clients, and the 401 rule."""

    def __init__(
        self,
        provider: str,
        *,
        client: Client | None = None,
        aio_client: AsyncClient | None = None,
    ) -> None:
        registry.load().get(provider)  # an unknown name fails here, not at the first request
        self.provider = provider
        self.client = client
        self.aio_client = aio_client

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.provider!r})"

    def _sync(self) -> Client:
        from nxuskit.client import default_client

        return self.client or default_client()

    def _async(self) -> AsyncClient:
        from nxuskit.aio import default_client

        return self.aio_client or default_client()

    def _resolve(self) -> tuple[ProviderSpec, Resolution]:
        spec = registry.load().get(self.provider)
        return spec, self._sync().auth_resolve(spec.name)

    def _renewed(self, used: Resolution) -> Resolution | None:
        """The credential to resend with after a 401, or None (return the 401)."""
        if used.source not in _RENEWABLE or used.secret is None:
            return None
        client = self._sync()
        try:
            if used.auth_method == protocol.OAUTH:
                client.auth_report_invalid(used.provider, used.secret)
            fresh = client.auth_resolve(used.provider)
        except (NotAuthenticated, LoginFailed):
            return None  # cannot be renewed now: the provider's answer stands
        return fresh if fresh.secret != used.secret else None

    async def _aresolve(self) -> tuple[ProviderSpec, Resolution]:
        spec = registry.load().get(self.provider)
        return spec, await self._async().auth_resolve(spec.name)

    async def _arenewed(self, used: Resolution) -> Resolution | None:
        if used.source not in _RENEWABLE or used.secret is None:
            return None
        client = self._async()
        try:
            if used.auth_method == protocol.OAUTH:
                await client.auth_report_invalid(used.provider, used.secret)
            fresh = await client.auth_resolve(used.provider)
        except (NotAuthenticated, LoginFailed):
            return None
        return fresh if fresh.secret != used.secret else None


class HttpxAuth(_Adapter):
    """``auth=`` for ``httpx.Client`` and ``httpx.AsyncClient`` (a subclass of
    ``httpx.Auth``): the provider's current credential on every request, one retry after
    a 401 with a renewed one (see the module). In an AsyncClient it resolves through
    ``nxuskit.aio``, never blocking the loop (asyncio or uvloop; not trio).

    ``client`` / ``aio_client``: the ``nxuskit.Client`` / ``nxuskit.aio.Client`` to ask
    (default: the process's, and the running loop's). Raises ImportError without httpx,
    UnknownProvider for an unknown name; requests raise what ``auth_resolve`` raises.
    """

    requires_request_body = True  # a retry sends the body again: it must be replayable
    requires_response_body = False

    def __new__(cls, *args: Any, **kwargs: Any) -> HttpxAuth:
        joined = _bind(HttpxAuth, "httpx", "Auth") if cls is HttpxAuth else cls
        instance: HttpxAuth = object.__new__(joined)
        return instance

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """httpx.Client's flow: resolve, send, and after a 401 renew once."""
        request.read()
        spec, used = self._resolve()
        _apply(request.headers, spec, used.secret)
        response = yield request
        if response.status_code == UNAUTHORIZED:
            fresh = self._renewed(used)
            if fresh is not None:
                _apply(request.headers, spec, fresh.secret)
                yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """httpx.AsyncClient's flow, the same through ``nxuskit.aio``."""
        await request.aread()
        spec, used = await self._aresolve()
        _apply(request.headers, spec, used.secret)
        response = yield request
        if response.status_code == UNAUTHORIZED:
            fresh = await self._arenewed(used)
            if fresh is not None:
                _apply(request.headers, spec, fresh.secret)
                yield request


class RequestsAuth(_Adapter):
    """``auth=`` for requests (a subclass of ``requests.auth.AuthBase``): the provider's
    current credential on every request, one retry after a 401 with a renewed one, and
    the key kept off redirects to another origin (see the module).

    ``client``: the ``nxuskit.Client`` to ask (default: the process's). Raises
    ImportError without requests, UnknownProvider for an unknown name; requests raise
    what ``auth_resolve`` raises.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> RequestsAuth:
        joined = _bind(RequestsAuth, "requests.auth", "AuthBase") if cls is RequestsAuth else cls
        instance: RequestsAuth = object.__new__(joined)
        return instance

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        spec, used = self._resolve()
        key_name = _apply(request.headers, spec, used.secret)
        origin = _origin(request.url)
        start = _body_position(request.body)

        def on_response(response: requests.Response, **kwargs: Any) -> requests.Response:
            return self._answered(response, spec, used, (origin, key_name, start), kwargs)

        request.register_hook("response", on_response)
        return request

    def _answered(
        self,
        response: requests.Response,
        spec: ProviderSpec,
        used: Resolution,
        sent: tuple[str, str, int | None],
        send_options: dict[str, Any],
    ) -> requests.Response:
        origin, key_name, start = sent
        if _origin(response.request.url) != origin:
            return response  # a redirect took the request elsewhere: no key goes there
        if response.is_redirect and _origin(_location(response)) != origin:
            response.request.headers.pop(key_name, None)  # the redirect is built from it
            return response
        if response.status_code != UNAUTHORIZED or not _rewind(response.request.body, start):
            return response
        fresh = self._renewed(used)
        if fresh is None:
            return response
        return _resend(response, spec, fresh, send_options)


def _origin(url: str | bytes | None) -> str:
    from urllib.parse import urlsplit

    parts = urlsplit(url.decode() if isinstance(url, bytes) else url or "")
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{parts.hostname}:{port}"


def _location(response: requests.Response) -> str:
    from urllib.parse import urljoin

    return urljoin(response.request.url or "", response.headers.get("location", ""))


def _body_position(body: object) -> int | None:
    """Where a file-like body starts (to send it again); None for any other body."""
    tell = getattr(body, "tell", None)
    try:
        return int(tell()) if tell is not None else None
    except OSError:
        return None


def _rewind(body: object, start: int | None) -> bool:
    """Ready ``body`` to be sent again: True unless it cannot be (a generator, a pipe)."""
    if body is None or isinstance(body, bytes | str):
        return True
    if start is None:
        return False
    try:
        body.seek(start)  # type: ignore[attr-defined]
    except (AttributeError, OSError):
        return False
    return True


def _resend(
    response: requests.Response,
    spec: ProviderSpec,
    fresh: Resolution,
    send_options: dict[str, Any],
) -> requests.Response:
    """Send ``response``'s request again with ``fresh``, as requests' digest auth does."""
    from requests.cookies import extract_cookies_to_jar

    response.content  # noqa: B018 - read to the end, so the connection can be reused
    response.close()
    original = response.request
    # requests builds any redirect that follows from the original request: renew it too.
    key_name = _apply(original.headers, spec, fresh.secret)
    again = original.copy()
    jar = again._cookies  # what the server set with its 401 goes along, as in a browser
    if jar is not None:
        extract_cookies_to_jar(jar, original, response.raw)
        again.prepare_cookies(jar)
    retried: requests.Response = response.connection.send(again, **send_options)
    retried.history.append(response)
    retried.request = again
    if retried.is_redirect and _origin(_location(retried)) != _origin(original.url):
        original.headers.pop(key_name, None)
    return retried
