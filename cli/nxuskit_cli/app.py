"""The root of ``nxuskit-cli``: global options, the invocation's Client, the groups."""

from __future__ import annotations

from typing import Annotated

import typer

from nxuskit.client import Client
from nxuskit_cli import audit, bridges, daemon, provider, store, team
from nxuskit_cli.options import SocketOption
from nxuskit_cli.output import EXIT_HELP

ENVIRONMENT_HELP = (
    "Environment: NXUSKIT_SOCKET (as --socket); NXUSKIT_TIMEOUT, the seconds to wait for "
    "nxuskitd's answer (default 30; `daemon status` waits 2 at most); NXUSKIT_AUTOSTART=0, "
    "never start nxuskitd (`provider status`, `daemon status`, `daemon lock` and `audit` never "
    "do)."
)

app = typer.Typer(
    name="nxuskit-cli",
    help="Manage the LLM provider credentials that nxuskitd keeps for your apps.\n\n"
    "Apps resolve a credential by precedence: an explicit parameter, then the provider's "
    "environment variable (OPENAI_API_KEY, ...), then the store (the OS keyring or a 0600 "
    "file), which nxuskitd serves over a private Unix socket, then the team store "
    "(OpenBao or Vault) when config.toml has a [team].\n\n" + ENVIRONMENT_HELP,
    epilog=EXIT_HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(provider.app, name="provider")
app.add_typer(daemon.app, name="daemon")
app.add_typer(store.app, name="store")
bridges.register(app)  # token and run
app.command("audit")(audit.command)
app.add_typer(team.app, name="team")


def _version(value: bool) -> None:
    if value:
        from nxuskit import __version__

        print(f"nxuskit-cli {__version__}")
        raise typer.Exit


@app.callback()
def main(
    ctx: typer.Context,
    socket: SocketOption = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options."""
    # One Client per invocation, for every command; a test may have passed its own.
    if not isinstance(ctx.obj, Client):
        ctx.obj = Client(socket)
