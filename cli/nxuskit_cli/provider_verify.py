"""``nxuskit-cli provider verify [PROVIDER]``: does the provider accept the credential?

"Authenticated" in ``provider status`` only means something is stored. This command asks
the provider: one GET to its cheapest authenticated endpoint (the registry's
``verify_path``, under the server ``nxuskit.provider.server_root`` names: the variable the
provider's SDK reads for its base URL, else the default host), with the key sent as the
registry says (``key_header``: a bearer token, ``x-api-key``, ``x-goog-api-key``,
``api-key``). The answer is one of:

- ``valid``: 2xx;
- ``rejected``: 401 or 403, the provider refuses the key (exit 1, as "not authenticated");
- ``unreachable``: no HTTP answer (refused, timed out, DNS, TLS), or no server configured;
- ``unexpected``: another status (404: a wrong base URL; 429; 5xx).

``unreachable`` and ``unexpected`` exit 13. Redirects are not followed, so the key goes to
that one server; the key is never printed.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from nxuskit import __version__, protocol
from nxuskit.client import Client
from nxuskit.errors import InvalidArgument
from nxuskit.provider import server_root
from nxuskit.providers import BEARER, ProviderSpec
from nxuskit_cli.options import JsonOption, client_of
from nxuskit_cli.output import EXIT_UNREACHABLE, print_json

VALID, REJECTED, UNREACHABLE, UNEXPECTED = "valid", "rejected", "unreachable", "unexpected"
REJECTING = (401, 403)
TIMEOUT = 10.0


def _headers(spec: ProviderSpec, secret: str | None) -> dict[str, str]:
    headers = {"Accept": "application/json", "User-Agent": f"nxuskit-cli/{__version__}"}
    headers.update(spec.verify_headers)
    if secret is not None:
        name = "Authorization" if spec.key_header == BEARER else spec.key_header
        headers[name] = f"Bearer {secret}" if spec.key_header == BEARER else secret
    return headers


def _get(url: str, headers: dict[str, str], timeout: float) -> tuple[int | None, str]:
    """The HTTP status of GET ``url`` (None when there was no answer), and why not."""
    # Imported here: http.client and ssl are a sixth of the CLI's start-up, and only
    # `verify` needs them (bench item 4 runs `provider status`).
    import http.client
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        """Refuses redirects: urllib would send the key's header on to the new location."""

        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None  # the 3xx then surfaces as an HTTPError, reported as unexpected

    opener = urllib.request.build_opener(NoRedirect)
    request = urllib.request.Request(url, headers=headers, method="GET")  # noqa: S310 - http(s) only
    try:
        with opener.open(request, timeout=timeout) as answer:
            return int(answer.status), ""
    except urllib.error.HTTPError as error:
        error.close()
        return error.code, ""
    except urllib.error.URLError as error:
        reason = error.reason
        text = reason.strerror if isinstance(reason, OSError) and reason.strerror else reason
        return None, str(text)
    except TimeoutError:
        return None, f"no answer within {timeout:g}s"
    except (OSError, http.client.HTTPException) as error:
        return None, str(error) or type(error).__name__
    except ValueError:  # http.client's message would quote the header, the key with it
        return None, "the key cannot be sent as an HTTP header (a line break in it?)"


def _source(spec: ProviderSpec, source: str | None) -> str:
    return {"env": f"${spec.env}", "store": "the store", "oauth": "your login"}.get(
        source or "", "the key given"
    )


def _fix(spec: ProviderSpec, source: str | None) -> str:
    if source == "env":
        return f"replace ${spec.env}"
    command = "login" if source == "oauth" else "set"
    return f"replace it: nxuskit-cli provider {command} {spec.name}"


def check(
    spec: ProviderSpec, secret: str | None, source: str | None, timeout: float
) -> dict[str, Any]:
    """Ask ``spec``'s server whether it accepts ``secret``: the outcome, as JSON shows it."""
    outcome: dict[str, Any] = {"provider": spec.name, "status": UNREACHABLE, "url": None,
                               "http_status": None, "source": source, "detail": ""}  # fmt: skip
    try:
        root = server_root(spec)
    except InvalidArgument as error:
        return {**outcome, "detail": str(error)}
    if root is None:
        return {**outcome, "detail": f"no server: set {spec.host_env} to its URL"}
    url = outcome["url"] = root + spec.verify_path
    code, why = _get(url, _headers(spec, secret), timeout)
    outcome["http_status"] = code
    if code is None:
        return {**outcome, "detail": why}
    whose = _source(spec, source) if secret is not None else "no credential (none needed)"
    if 200 <= code < 300:
        return {**outcome, "status": VALID, "detail": f"answered {code} to {whose}"}
    if code in REJECTING and secret is not None:
        detail = f"answered {code}: the provider refuses the key from {whose}; {_fix(spec, source)}"
        return {**outcome, "status": REJECTED, "detail": detail}
    detail = f"answered HTTP {code}, not 2xx, 401 or 403: is the base URL right?"
    return {**outcome, "status": UNEXPECTED, "detail": detail}


def _outcome(client: Client, name: str, timeout: float) -> dict[str, Any]:
    spec = client.load_registry().get(name)
    resolution = client.auth_resolve(spec.name)  # NotAuthenticated when there is nothing
    return check(spec, resolution.secret, resolution.source, timeout)


def _print(outcomes: list[dict[str, Any]]) -> None:
    if not outcomes:
        print("No provider has a credential to verify.")
    for outcome in outcomes:
        where = f" - {outcome['url']}" if outcome["url"] else ""
        print(f"{outcome['provider']}: {outcome['status']}{where}: {outcome['detail']}")


def verify(
    ctx: typer.Context,
    provider: Annotated[
        str | None,
        typer.Argument(
            metavar="[PROVIDER]", help="One provider (default: every authenticated one)."
        ),
    ] = None,
    json_output: JsonOption = False,
    timeout: Annotated[
        float, typer.Option(min=0.1, max=300, help="Seconds to wait for each provider.")
    ] = TIMEOUT,
) -> None:
    """Check with the provider that its credential works (the key is never printed).

    Calls the provider's cheapest authenticated endpoint (e.g. its model list) at the
    base URL its SDK would use ($OPENAI_BASE_URL, ...). Exits 0 when every key is valid,
    1 when a provider rejects one (401/403), 13 when one cannot be reached or answers
    something else.
    """
    client = client_of(ctx)
    if provider is not None:
        outcomes = [_outcome(client, provider, timeout)]
    else:
        report = client.auth_status_report()
        names = [s.provider for s in report.statuses if s.status == protocol.AUTHENTICATED]
        outcomes = [_outcome(client, name, timeout) for name in names]
    if json_output:
        print_json(outcomes)
    else:
        _print(outcomes)
    seen = {outcome["status"] for outcome in outcomes}
    if REJECTED in seen:
        raise typer.Exit(1)
    if seen - {VALID}:
        raise typer.Exit(EXIT_UNREACHABLE)


def register(app: typer.Typer) -> None:
    """Add ``verify`` to the ``provider`` command group."""
    app.command()(verify)
