"""``nxuskit-cli provider status`` and ``provider list``: what is known, and from where.

``status`` only looks, so it never starts nxuskitd. When none runs, the providers the
environment decides (and those that need no credential) are still shown; the others are
"Unknown" (``"status": "unknown"`` in JSON), and the command exits 4 with one line saying
so and how to start the daemon.
"""

from __future__ import annotations

import textwrap
from typing import Annotated, Any

import typer

from nxuskit.answers import AuthStatus
from nxuskit.errors import DaemonNotRunning
from nxuskit.precedence import StatusReport, status_locally
from nxuskit.registry import ProviderSpec, Registry
from nxuskit_cli.options import JsonOption, client_of, not_running, read_only_client
from nxuskit_cli.output import format_expiry, note, print_json
from nxuskit_cli.table import footer, render

UNKNOWN = "unknown"
"""The status of a provider whose credential only the daemon's store could tell, when no
daemon runs (CLI only; never on the wire)."""

_STATUS_TEXT = {
    "authenticated": "Authenticated",
    "not_authenticated": "Not authenticated",
    "not_required": "Not required",
    "config_invalid": "Config invalid",
    UNKNOWN: "Unknown",
}
DASH = "\u2014"


def _config_notes(registry: Registry) -> None:
    """What is wrong with config.toml, on stderr (the listing itself stays complete)."""
    for problem in registry.problems():
        note(problem)


def _table(statuses: list[AuthStatus], broken: list[dict[str, Any]]) -> str:
    # OAuth tokens expire: a column for it appears only when some credential does.
    expiring = any(status.expires_at is not None for status in statuses)
    headers = ("Provider", "Status", "Source", "Auth Methods") + (("Expires",) if expiring else ())
    rows = []
    for status in statuses:
        row = (
            status.provider,
            _STATUS_TEXT.get(status.status, status.status),
            status.source or DASH,
            ", ".join(status.auth_methods) or DASH,
        )
        rows.append(row + ((format_expiry(status.expires_at) or DASH,) if expiring else ()))
    for entry in broken:  # the reason follows as a note
        rows.append((entry["provider"], _STATUS_TEXT["config_invalid"], DASH, DASH)
                    + ((DASH,) if expiring else ()))  # fmt: skip
    return render(headers, rows)


def _orphans_footer(names: list[str]) -> str:
    listed = textwrap.fill(", ".join(names), width=80, initial_indent="  ",
                           subsequent_indent="  ", break_on_hyphens=False,
                           break_long_words=False)  # fmt: skip
    return (
        f"stored for providers no longer in config.toml:\n{listed}\n"
        "  remove one with: nxuskit-cli provider remove NAME"
    )


def _unknown(spec: ProviderSpec) -> AuthStatus:
    methods = list(spec.auth_methods)
    return AuthStatus(spec.name, UNKNOWN, None, methods, display_name=spec.display_name)


def _without_daemon(registry: Registry, provider: str | None) -> StatusReport:
    """What this process can tell by itself: the environment's and the not-required
    providers; the others are unknown."""
    specs = registry.providers if provider is None else [registry.get(provider)]
    statuses = [status_locally(spec) or _unknown(spec) for spec in specs]
    return StatusReport(statuses, None)


def _show(report: StatusReport, broken: list[dict[str, Any]], json_output: bool) -> None:
    if json_output:
        print_json([*(s.to_dict() for s in report.statuses), *broken])
        return
    print(_table(report.statuses, broken))
    if report.store is not None:
        print(footer("store: ", report.store.summary))
    if report.team is not None:
        from nxuskit_cli.team import summary

        print(footer("team: ", summary(report.team)))
    if report.orphans:
        print(_orphans_footer(report.orphans))


def status(
    ctx: typer.Context,
    provider: Annotated[
        str | None, typer.Argument(metavar="[PROVIDER]", help="One provider (default: all).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show which providers are authenticated, and from which source.

    With PROVIDER, exits 1 when it is not authenticated (0 otherwise), so scripts can
    write: nxuskit-cli provider status openai >/dev/null || nxuskit-cli provider set openai

    Never starts nxuskitd: when it is not running, the providers your environment decides
    are still shown, the others as Unknown, and the command exits 4 (start it with
    `nxuskit-cli daemon start`).
    """
    client = read_only_client(ctx)
    registry = client.load_registry()
    broken = registry.broken_status() if provider is None else []
    try:
        report = client.auth_status_report(provider)
    except DaemonNotRunning:
        _show(_without_daemon(registry, provider), broken, json_output)
        _config_notes(registry)
        raise not_running(client, "stored credentials are shown as unknown") from None
    _show(report, broken, json_output)
    _config_notes(registry)
    if provider is not None and not report.statuses[0].authenticated:
        raise typer.Exit(1)


def list_(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """List the known providers: built-in ones and those in config.toml."""
    registry = client_of(ctx).load_registry()
    if json_output:
        print_json(registry.to_wire())
        _config_notes(registry)
        return
    rows = [
        (
            spec.name,
            ", ".join(spec.aliases) or DASH,
            spec.env or (f"{spec.host_env} (host)" if spec.host_env else DASH),
            ", ".join(spec.auth_methods) or DASH,
            spec.default_host or DASH,
        )
        for spec in registry.providers
    ]
    rows += [(name, DASH, "(config invalid)", DASH, DASH) for name in registry.broken]
    headers = ("Provider", "Aliases", "Env Variable", "Auth Methods", "Default Host")
    print(render(headers, rows))
    _config_notes(registry)


def register(app: typer.Typer) -> None:
    """Add ``status`` and ``list`` to the ``provider`` command group."""
    app.command()(status)
    app.command("list")(list_)
