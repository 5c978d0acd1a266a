"""``nxuskit-cli audit``: the credential accesses nxuskitd recorded, newest last.

It only looks, so it never starts nxuskitd. When one runs, it asks it (``audit.query``:
entries still queued for the file are included); when none runs, it reads the log file
itself (the same file, this user's), says so on stderr, and exits 0. An autostarted
daemon exits when idle, and its history is no less worth reading then.
"""

from __future__ import annotations

import datetime
import os
import re
import time
from typing import Annotated

import typer

from nxuskit import audit, protocol
from nxuskit.answers import AuditEntry, AuditTrail
from nxuskit.client import Client
from nxuskit.errors import DaemonNotRunning, InvalidArgument
from nxuskit_cli.options import JsonOption, read_only_client
from nxuskit_cli.output import note, print_json
from nxuskit_cli.table import render

DASH = "\u2014"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw])")
SINCE_HELP = "like 1h, 30m, 2d or 1w ago, or a local date/time like 2025-11-29 or 2025-11-29T14:00"


def parse_since(text: str, now: float | None = None) -> float:
    """``--since``: a span back from now ("90s", "30m", "1h", "2d", "1w") or an ISO 8601
    date or date and time (local time unless it says otherwise), as Unix time.

    Raises InvalidArgument with the forms it takes.
    """
    relative = _RELATIVE.fullmatch(text.strip().lower())
    if relative is not None:
        span = float(relative.group(1)) * _UNITS[relative.group(2)]
        return (time.time() if now is None else now) - span
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise InvalidArgument(f"--since: give a time {SINCE_HELP}; not {text!r}") from None
    return moment.astimezone().timestamp()  # a naive time is taken as local time


def _process(entry: AuditEntry) -> str:
    name = os.path.basename(entry.executable) if entry.executable else None
    if entry.pid is None:
        return name or DASH
    return f"{entry.pid} {name}" if name else str(entry.pid)


def _method(method: str) -> str:
    """The method as the CLI's verbs say it: "set", "remove", "migrate", "resolve"..."""
    return method.removeprefix("auth.").removeprefix("store.").removesuffix("_credential")


def _result(entry: AuditEntry) -> str:
    if entry.result == audit.OK and entry.source:
        return f"ok ({entry.source})"
    return entry.result


def _table(entries: list[AuditEntry], now: float | None = None) -> str:
    """Time, method, provider, result, process: 80 columns for the usual entries (the
    year is left out when every entry is of this one; --json has everything)."""
    this_year = time.localtime(now).tm_year
    same_year = all(time.localtime(entry.time).tm_year == this_year for entry in entries)
    shape = "%m-%d %H:%M:%S" if same_year else "%Y-%m-%d %H:%M:%S"
    rows = [
        (
            time.strftime(shape, time.localtime(entry.time)),
            _method(entry.method),
            entry.provider or DASH,
            _result(entry),
            _process(entry),
        )
        for entry in entries
    ]
    return render(("Time", "Method", "Provider", "Result", "Process"), rows)


def _from_file(client: Client, provider: str | None, since: float | None, limit: int) -> AuditTrail:
    """What the log file holds, read here (no daemon runs to ask)."""
    path = audit.log_path()
    name = None if provider is None else audit.canonical(provider, client.load_registry())
    note(f"nxuskitd is not running at {client.path()}: read {path} directly")
    return audit.read(path, name, since, limit)


def command(
    ctx: typer.Context,
    provider: Annotated[
        str | None,
        typer.Option("--provider", "-p", metavar="PROVIDER", help="Only this provider."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", metavar="TIME", help=f"Only entries since TIME: {SINCE_HELP}."),
    ] = None,
    limit: Annotated[
        int,
        typer.Option(
            "--limit",
            metavar="N",
            help=f"Show the newest N entries (default {protocol.AUDIT_LIMIT_DEFAULT}, "
            f"at most {protocol.AUDIT_LIMIT_MAX}).",
        ),
    ] = protocol.AUDIT_LIMIT_DEFAULT,
    json_output: JsonOption = False,
) -> None:
    """Show which processes used your credentials, newest last.

    Each resolve, set, remove, login, logout and store migration nxuskitd recorded, with
    its result and the process that asked (pid and program; --json has its full path).
    Never a secret is recorded. Never starts nxuskitd: when it is not running, the log
    file ($XDG_STATE_HOME/nxuskit/audit.jsonl) is read directly.
    """
    since_time = None if since is None else parse_since(since)
    count = audit.check_limit(limit)
    client = read_only_client(ctx)
    try:
        trail = client.audit_query(provider, since_time, count)
    except DaemonNotRunning:
        trail = _from_file(client, provider, since_time, count)
    if json_output:
        print_json(trail)
    elif trail.entries:
        print(_table(trail.entries))
    else:
        note("no entries" + ("" if since is None else f" since {since}"))
    if trail.more and not json_output:
        note(f"older entries were left out: see them with --limit (at most "
             f"{protocol.AUDIT_LIMIT_MAX}) or --since")  # fmt: skip
    if trail.problem:
        note(f"the audit log is not being written: {trail.problem}")
