"""What the commands of ``nxuskit-cli`` share: their options and arguments, written once,
and the invocation's ``nxuskit.Client``.

The root callback (``nxuskit_cli.app``) builds one Client per invocation from the global
``--socket`` option and puts it on the typer context (``ctx.obj``); every command that
talks to nxuskitd takes the context and uses ``client_of(ctx)``, never nxuskit's module
functions or its connection internals. A test may hand in its own Client
(``app(obj=Client(connect=...))``): the callback keeps it.

Adding a command: a function in its group's module (``provider``, ``daemon``, ``store``)
taking ``ctx: typer.Context`` and the options below.
"""

from __future__ import annotations

from typing import Annotated

import typer

from nxuskit.client import Client
from nxuskit.errors import DaemonNotAnswering, DaemonNotRunning

JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

ProviderArg = Annotated[
    str, typer.Argument(metavar="PROVIDER", help="A provider name or alias: openai, claude, ...")
]

OAuthProviderArg = Annotated[
    str, typer.Argument(metavar="PROVIDER", help="A provider with an OAuth login: openrouter, ...")
]

DryRunOption = Annotated[
    bool, typer.Option("--dry-run", help="Print what would be written and run; change nothing.")
]

SocketOption = Annotated[
    str | None,
    typer.Option(
        "--socket",
        metavar="PATH",
        envvar="NXUSKIT_SOCKET",
        help="The daemon's socket (default: $XDG_RUNTIME_DIR/nxuskit/nxuskitd.sock).",
    ),
]


def client_of(ctx: typer.Context) -> Client:
    """The invocation's Client (the root callback made it from --socket)."""
    found = ctx.find_object(Client)
    if found is None:  # a command run without the root callback (a test's own app)
        found = ctx.ensure_object(Client)
    return found


def read_only_client(ctx: typer.Context, timeout: float | None = None) -> Client:
    """The invocation's Client, made never to start a daemon (for commands that only
    look); with ``timeout``, waiting at most that long (less when NXUSKIT_TIMEOUT says so)."""
    found = client_of(ctx)
    found.autostart = False
    if timeout is not None:
        found.timeout = min(timeout, found.wait_limit())
    return found


def not_running(found: Client, consequence: str) -> DaemonNotRunning:
    """The error of a command that only looks when no daemon runs: ``consequence`` says
    what that means for this command."""
    return DaemonNotRunning(
        f"nxuskitd is not running at {found.path()}, so {consequence}; this command never "
        "starts it: start it with `nxuskit-cli daemon start` (or `nxuskit-cli daemon "
        "install` for a service)"
    )


def not_answering(found: Client) -> DaemonNotAnswering:
    """The error when a daemon accepted the connection but did not answer in time: its
    pid from the instance lock, and how to resume or end it."""
    pid = found.daemon_pid()
    who = f"nxuskitd (pid {pid})" if pid else "nxuskitd"
    target = str(pid) if pid else "PID"
    return DaemonNotAnswering(
        f"{who} at {found.path()} is not answering (no answer within "
        f"{found.wait_limit():g} s): if it was stopped (SIGSTOP, Ctrl-Z), `kill -CONT "
        f"{target}` resumes it; if it hangs, `kill -KILL {target}` ends it (stored "
        "credentials are kept)"
    )
