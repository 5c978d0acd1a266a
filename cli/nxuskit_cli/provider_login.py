"""``nxuskit-cli provider login`` and ``provider logout``: OAuth logins the daemon runs.

The daemon holds the PKCE verifier, the loopback listener and the tokens; this command
shows the URL (or the device code), opens the browser when one can be seen here, waits,
and cancels the login in the daemon on Ctrl-C.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator, Mapping
from typing import Annotated
from urllib.parse import urlsplit

import typer

from nxuskit import protocol
from nxuskit.answers import LoginStart
from nxuskit_cli.options import JsonOption, OAuthProviderArg, client_of
from nxuskit_cli.output import EXIT_INTERRUPTED, format_expiry, note, print_json

SSH_VARIABLES = ("SSH_CONNECTION", "SSH_CLIENT", "SSH_TTY")


def browser_available(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a browser opened here would be seen: not over SSH, and a display (always on
    macOS and Windows; DISPLAY or WAYLAND_DISPLAY elsewhere)."""
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    if any(env.get(name) for name in SSH_VARIABLES):
        return False
    if platform == "darwin" or platform.startswith("win"):
        return True
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def _open(url: str) -> None:
    import webbrowser

    try:
        opened = webbrowser.open(url, new=2)
    except webbrowser.Error:
        opened = False
    if not opened:
        note("could not open a browser here: open the URL above yourself")


def _show(start: LoginStart, open_browser: bool) -> None:
    if start.user_code is not None:
        print(f"To log in to {start.provider}, open this page on any device:")
        print(start.verification_uri)
        print(f"and enter the code: {start.user_code}")
        if start.verification_uri_complete:
            print("or open this address, which carries the code:")
            print(start.verification_uri_complete)
        target = start.verification_uri_complete or start.verification_uri
    else:
        print(f"To log in to {start.provider}, open this URL in a browser:")
        print(start.authorization_url)
        target = start.authorization_url
        if any(os.environ.get(name) for name in SSH_VARIABLES) and start.redirect_uri:
            port = urlsplit(start.redirect_uri).port
            note(
                f"the browser must reach {start.redirect_uri} on this machine: from the "
                f"machine with the browser, run ssh -L {port}:127.0.0.1:{port} <this host> "
                "first, or log in with --device where the provider offers it"
            )
    sys.stdout.flush()
    if open_browser and target and browser_available():
        _open(target)


@contextlib.contextmanager
def _waiting() -> Iterator[None]:
    message = "Waiting for the login to finish (Ctrl-C cancels)"
    if sys.stderr.isatty():
        from rich.console import Console

        with Console(stderr=True).status(message + "..."):
            yield
    else:
        print(message + "...", file=sys.stderr, flush=True)
        yield


def login(
    ctx: typer.Context,
    provider: OAuthProviderArg,
    no_browser: Annotated[
        bool, typer.Option("--no-browser", help="Print the URL only; never open a browser.")
    ] = False,
    device: Annotated[
        bool,
        typer.Option("--device", help="Use a device code (RFC 8628): approve on any device."),
    ] = False,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            min=1,
            max=protocol.LOGIN_TIMEOUT_MAX,
            help="Give up after this long.",
        ),
    ] = protocol.LOGIN_TIMEOUT_DEFAULT,
) -> None:
    """Log in to PROVIDER with OAuth; nxuskitd stores the tokens and keeps them fresh.

    Opens your browser when this session has a display (not over SSH). Elsewhere, open the
    printed URL yourself: over SSH, forward the callback port first (the command says
    how), or use --device where the provider offers a device code.
    """
    client = client_of(ctx)
    name = client.load_registry().get(provider).name
    start = client.auth_login_start(name, device=device, timeout=timeout)
    try:
        _show(start, open_browser=not no_browser)
        with _waiting():
            result = client.auth_login_wait(start.login_id)
    except BaseException as error:
        with contextlib.suppress(Exception):
            client.auth_login_cancel(start.login_id)
        if isinstance(error, KeyboardInterrupt):
            print(f"nxuskit-cli: the login to {name} was cancelled", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        raise
    assert result is not None
    expiry = format_expiry(result.expires_at)
    detail = f"; the access token expires {expiry}, and nxuskitd refreshes it" if expiry else ""
    print(f"Logged in to {name} (stored in the {result.store or 'credential'} store{detail}).")


def logout(ctx: typer.Context, provider: OAuthProviderArg, json_output: JsonOption = False) -> None:
    """Log out of PROVIDER: revoke its tokens at the provider (where it offers revocation)
    and delete them from the store."""
    client = client_of(ctx)
    name = client.load_registry().get(provider).name
    answer = client.auth_logout(name)
    if json_output:
        print_json(answer)
        return
    if not answer.removed:
        print(f"No login was stored for {name}; nothing removed.")
        return
    revoked = answer.revoked
    if revoked is True:
        print(f"Logged out of {name}: the tokens were revoked at the provider and deleted.")
    elif revoked is None:
        print(f"Logged out of {name}: the stored credential was deleted.")
    else:
        print(f"Logged out of {name}: the tokens were deleted.")
        note(f"{name} did not confirm the revocation: revoke nxuskit's access in its settings")


def register(app: typer.Typer) -> None:
    """Add ``login`` and ``logout`` to the ``provider`` command group."""
    app.command()(login)
    app.command()(logout)
