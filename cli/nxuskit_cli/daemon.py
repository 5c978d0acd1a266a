"""``nxuskit-cli daemon ...``: the running daemon (and, later, installing it as a service)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

import nxuskit
from nxuskit_cli.output import EXIT_HELP, print_json, stdout

app = typer.Typer(
    help="Inspect and manage the nxuskitd daemon.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]


@app.command()
def status(json_output: JsonOption = False) -> None:
    """Show the daemon's pid, version, uptime, socket, store and how it was started."""
    info = nxuskit.daemon_status()
    if json_output:
        print_json(info)
        return
    store = info.get("store", {})
    rows = [
        ("pid", str(info.get("pid"))),
        ("version", f"{info.get('version')} (protocol {info.get('protocol')})"),
        ("uptime", f"{info.get('uptime', 0):.0f} s"),
        ("socket", str(info.get("socket"))),
        ("store", f"{store.get('description')} ({store.get('reason')})"),
        ("started by", str(info.get("started_by"))),
        ("connections", str(info.get("connections"))),
    ]
    table = Table(box=None, show_header=False, pad_edge=False)
    table.add_column(style="bold")
    table.add_column()
    for key, value in rows:
        table.add_row(key, value)
    stdout.print(table)
