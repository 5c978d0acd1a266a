"""``nxuskit-cli daemon ...``: the running daemon, and its life as a service or by hand
(``lifecycle``)."""

from __future__ import annotations

from typing import Annotated

import typer

from nxuskit.errors import DaemonNotAnswering, DaemonNotRunning
from nxuskit_cli.options import (
    DryRunOption,
    JsonOption,
    client_of,
    not_answering,
    not_running,
    read_only_client,
)
from nxuskit_cli.output import EXIT_HELP, print_json
from nxuskit_cli.table import render

app = typer.Typer(
    help="Inspect and manage the nxuskitd daemon.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)

STATUS_TIMEOUT = 2.0
"""Seconds ``daemon status`` waits for an answer: a stopped or hung daemon is reported as
such at once instead of after the client's usual wait."""


@app.command()
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the daemon's pid, version, uptime, socket, store and how it was started.

    Never starts nxuskitd: when it is not running, says so and exits 4. Waits 2 s at
    most: a daemon that does not answer (stopped or hung) is reported as not answering,
    with its pid, and the command exits 4.
    """
    client = read_only_client(ctx, timeout=STATUS_TIMEOUT)
    try:
        info = client.daemon_status()
    except DaemonNotRunning:
        raise not_running(client, "there is no status to show") from None
    except DaemonNotAnswering:
        raise not_answering(client) from None
    if json_output:
        print_json(info)
        return
    rows = [
        ("pid", str(info.pid)),
        ("version", f"{info.version} (protocol {info.protocol})"),
        ("uptime", f"{info.uptime:.0f} s"),
        ("socket", info.socket),
        ("store", f"{info.store.description} ({info.store.reason})"),
        ("started by", info.started_by),
        ("connections", str(info.connections)),
    ]
    cache = info.cache
    if cache is not None:
        rows.append(
            (
                "cache",
                f"{cache.entries} entries, forgotten after {cache.idle_timeout} s "
                f"idle / {cache.max_lifetime} s, {cache.store_reads} store reads",
            )
        )
    if info.team is not None:
        from nxuskit_cli.team import summary

        rows.append(("team", summary(info.team)))
    print(render(None, rows))


@app.command()
def lock(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Make the daemon forget the secrets it has cached, now.

    The next resolve reads the store again, which may ask you to unlock the OS keyring.
    Cached secrets are also forgotten by themselves after --cache-idle seconds unused
    (default 10 minutes) and --cache-max seconds at most (default 2 hours). Never starts
    nxuskitd: when it is not running (so nothing is cached), says so and exits 4.
    """
    client = read_only_client(ctx)
    try:
        forgotten = client.daemon_lock()
    except DaemonNotRunning:
        raise not_running(client, "no secret is cached and there is nothing to forget") from None
    if json_output:
        print_json({"locked": True, "forgotten": forgotten})
    else:
        print(f"Locked: nxuskitd forgot {forgotten} cached entries.")


@app.command()
def install(ctx: typer.Context, dry_run: DryRunOption = False) -> None:
    """Install nxuskitd as a service: systemd user units (Linux) or a LaunchAgent (macOS).

    Writes the units with the absolute path of this installation's nxuskitd, then enables
    the socket: the service manager listens at login and starts nxuskitd on the first
    connection.
    """
    from nxuskit_cli import lifecycle

    lifecycle.install(client_of(ctx), dry_run)


@app.command()
def uninstall(ctx: typer.Context, dry_run: DryRunOption = False) -> None:
    """Stop and remove the service (stored credentials stay where they are)."""
    from nxuskit_cli import lifecycle

    lifecycle.uninstall(client_of(ctx), dry_run)


@app.command()
def start(ctx: typer.Context) -> None:
    """Start the daemon now: the service when installed, else in the background."""
    from nxuskit_cli import lifecycle

    lifecycle.start(client_of(ctx))


@app.command()
def stop(ctx: typer.Context) -> None:
    """Stop the daemon (the service comes back with `daemon start` or at the next login)."""
    from nxuskit_cli import lifecycle

    lifecycle.stop(client_of(ctx))


@app.command()
def logs(
    ctx: typer.Context,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new lines.")
    ] = False,
    lines: Annotated[
        int, typer.Option("--lines", "-n", min=0, help="How many recent lines to show.")
    ] = 50,
) -> None:
    """Show the daemon's log: the journal under systemd, else its log file."""
    from nxuskit_cli import lifecycle

    code = lifecycle.logs(client_of(ctx), follow, lines)
    if code:
        raise typer.Exit(code)
