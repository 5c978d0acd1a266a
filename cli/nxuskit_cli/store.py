"""``nxuskit-cli store ...``: which store holds the credentials, and moving them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

import typer

from nxuskit import protocol
from nxuskit_cli.options import JsonOption, client_of
from nxuskit_cli.output import EXIT_HELP, print_json
from nxuskit_cli.table import footer

app = typer.Typer(
    help="Show the credential store (OS keyring or file) and move credentials between stores.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)
# The kinds of store come from the wire contract: a new kind appears here by itself.
Kind = StrEnum("Kind", [(kind, kind) for kind in protocol.STORE_KINDS])  # type: ignore[misc]
"""The stores credentials can move to (``protocol.STORE_KINDS``)."""


@app.callback()
def main() -> None:
    """Credential store commands."""


@app.command()
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show which store the daemon uses and why it was chosen."""
    info = client_of(ctx).store_info()
    if json_output:
        print_json(info.to_dict())
        return
    print(footer("store: ", info.description))
    print(footer("why:   ", info.reason))


def _names(names: list[str]) -> str:
    return ", ".join(names)


@app.command()
def migrate(
    ctx: typer.Context,
    to: Annotated[
        Kind,
        typer.Option("--to", help="The store to move every credential to.", show_default=False),
    ],
    json_output: JsonOption = False,
) -> None:
    """Move every stored credential to the OS keyring or to the file store.

    Each credential is copied, read back and compared before its original is deleted;
    if any copy fails, nothing is deleted and the daemon keeps its store. Afterwards the
    daemon uses the new store, and remembers it across restarts under --store auto.

    Examples:

      nxuskit-cli store migrate --to keyring

      nxuskit-cli store migrate --to file      (e.g. before leaving a desktop session)
    """
    result = client_of(ctx).store_migrate(to.value)
    if json_output:
        print_json(result.to_dict())
        return
    source, target = result.source.description, result.target.description
    if result.source.kind == result.target.kind:
        print(f"The credentials are already in {target}; nothing moved.")
        return
    if result.moved:
        count = len(result.moved)
        noun = "credential" if count == 1 else "credentials"
        print(f"Moved {count} {noun} from {source} to {target}: {_names(result.moved)}.")
    else:
        print(f"No credentials were stored in {source}; nothing moved.")
    if result.replaced:
        print(f"Replaced what {target} held for: {_names(result.replaced)}.")
    if result.kept:
        print(f"Already in {target}, kept: {_names(result.kept)}.")
    if result.left_in_source:
        left = _names(result.left_in_source)
        print(f"Copied, but still in {source} (remove them there by hand): {left}.")
    print(f"nxuskitd now uses {target}.")
