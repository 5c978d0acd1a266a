"""``nxuskit-cli daemon ...``: the running daemon, and running it as a service (``service``)."""

from __future__ import annotations

from typing import Annotated

import typer

import nxuskit
from nxuskit_cli.output import EXIT_HELP, print_json
from nxuskit_cli.table import render

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
    cache = info.get("cache")
    if isinstance(cache, dict):
        rows.append(
            (
                "cache",
                f"{cache.get('entries')} entries, forgotten after {cache.get('idle_timeout')} s "
                f"idle / {cache.get('max_lifetime')} s, {cache.get('store_reads')} store reads",
            )
        )
    print(render(None, rows))


@app.command()
def lock(json_output: JsonOption = False) -> None:
    """Make the daemon forget the secrets it has cached, now.

    The next resolve reads the store again, which may ask you to unlock the OS keyring.
    Cached secrets are also forgotten by themselves after --cache-idle seconds unused
    (default 10 minutes) and --cache-max seconds at most (default 2 hours).
    """
    forgotten = nxuskit.daemon_lock()
    if json_output:
        print_json({"locked": True, "forgotten": forgotten})
    else:
        print(f"Locked: nxuskitd forgot {forgotten} cached entries.")


DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print what would be written and run; change nothing.")
]


@app.command()
def install(dry_run: DryRunOption = False) -> None:
    """Install nxuskitd as a service: systemd user units (Linux) or a LaunchAgent (macOS).

    Writes the units with the absolute path of this installation's nxuskitd, then enables
    the socket: the service manager listens at login and starts nxuskitd on the first
    connection.
    """
    from nxuskit_cli import service

    service.install(dry_run)


@app.command()
def uninstall(dry_run: DryRunOption = False) -> None:
    """Stop and remove the service (stored credentials stay where they are)."""
    from nxuskit_cli import service

    service.uninstall(dry_run)


@app.command()
def start() -> None:
    """Start the daemon now: the service when installed, else in the background."""
    from nxuskit_cli import service

    service.start()


@app.command()
def stop() -> None:
    """Stop the daemon (the service comes back with `daemon start` or at the next login)."""
    from nxuskit_cli import service

    service.stop()


@app.command()
def logs(
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="How many recent lines to show.")
    ] = 50,
) -> None:
    """Show the daemon's log: the journal under systemd, else its log file."""
    from nxuskit_cli import service

    code = service.logs(follow, lines)
    if code:
        raise typer.Exit(code)
