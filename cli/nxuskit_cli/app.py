"""The root of ``nxuskit-cli``: global options and the command groups."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from nxuskit_cli import daemon, provider, store
from nxuskit_cli.output import EXIT_HELP

app = typer.Typer(
    name="nxuskit-cli",
    help="Manage the LLM provider credentials that nxuskitd keeps for your apps.\n\n"
    "Apps resolve a credential by precedence: an explicit parameter, then the provider's "
    "environment variable (OPENAI_API_KEY, ...), then the store (the OS keyring or a 0600 "
    "file), which nxuskitd serves over a private Unix socket.",
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


def _version(value: bool) -> None:
    if value:
        from nxuskit import __version__

        print(f"nxuskit-cli {__version__}")
        raise typer.Exit


@app.callback()
def main(
    socket: Annotated[
        str | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            envvar="NXUSKIT_SOCKET",
            help="The daemon's socket (default: $XDG_RUNTIME_DIR/nxuskit/nxuskitd.sock).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Global options."""
    if socket:
        os.environ["NXUSKIT_SOCKET"] = socket
