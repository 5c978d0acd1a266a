"""``nxuskit-cli token`` and ``nxuskit-cli run``: credentials for tools that read an
environment variable or call a key helper, as ``gh auth token``, ``op run`` and
``aws-vault exec`` hand them out.

``token``'s work is ``nxuskit_cli.token`` (which also answers it without typer);
``run``'s child process is ``nxuskit_cli.supervisor``'s. This module holds their options
and what ``run`` puts into the command's environment (``command_environment``).
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from nxuskit import protocol
from nxuskit.client import Client
from nxuskit.provider import server_root
from nxuskit.registry import ProviderSpec
from nxuskit_cli import token as token_output
from nxuskit_cli.options import ProviderArg, client_of
from nxuskit_cli.output import EXIT_HELP, note

RUN_HELP = """Run CMD with provider credentials in its environment.

Each -p PROVIDER sets the provider's key variable (OPENAI_API_KEY, ...) to its credential
from nxuskitd (the stored key, or the OAuth login's token, refreshed when due); --all names
every authenticated provider. A provider that needs no key (ollama, lm-studio) sets its
host variable instead (OLLAMA_HOST, LMSTUDIO_HOST) to its server, from config.toml or the
default; base-URL variables of providers with keys (OPENAI_BASE_URL, ...) are left alone.
A variable already set, and not empty, in this environment wins and is passed as it is;
nothing else in the environment changes. A named provider without a credential is an
error, and CMD does not start.

CMD gets stdin, the terminal and descriptors 0-2 only. It runs in this command's process
group: the terminal's Ctrl-C, Ctrl-\\ and Ctrl-Z reach it directly, once, and SIGINT,
SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1 and SIGUSR2 sent to nxuskit-cli are passed
on. The exit status is CMD's, 128+N when signal N ended it (126: CMD cannot run, 127: not
found).

Masking: where CMD's stdout or stderr is a pipe or a file, each secret (of 6 characters or
more) it writes there is replaced by <concealed by nxuskit>, also when written in pieces;
text that may begin a secret waits for the next write. Output to a terminal passes as it
is, so interactive programs keep their terminal (a note on stderr says so): masking
keeps secrets out of logs, files and the transcripts of tools that run commands.
--no-masking turns it off."""

ProvidersOption = Annotated[
    list[str] | None,
    typer.Option(
        "--provider",
        "-p",
        metavar="PROVIDER",
        help="A provider whose credential CMD gets (repeat for more).",
        show_default=False,
    ),
]
AllOption = Annotated[
    bool, typer.Option("--all", help="Every authenticated provider.", show_default=False)
]
NoMaskingOption = Annotated[
    bool,
    typer.Option("--no-masking", help="Pass CMD's output as it is.", show_default=False),
]
CommandArg = Annotated[
    list[str],
    typer.Argument(
        metavar="-- CMD [ARGS]...", help="The command and its arguments.", show_default=False
    ),
]


def token(ctx: typer.Context, provider: ProviderArg) -> None:
    """Print a provider's credential (see ``nxuskit_cli.token``)."""
    token_output.print_token(client_of(ctx), provider)


def run(
    ctx: typer.Context,
    command: CommandArg,
    providers: ProvidersOption = None,
    every: AllOption = False,
    no_masking: NoMaskingOption = False,
) -> None:
    """Run a command with credentials in its environment (``RUN_HELP``)."""
    from nxuskit_cli import supervisor

    if not providers and not every:
        raise typer.BadParameter("name the providers: -p PROVIDER (repeatable) or --all")
    client = client_of(ctx)
    caller = supervisor.caller_environment()
    additions, secrets = command_environment(client, providers or [], every, caller)
    client.close()  # CMD never sees this connection, and the daemon does not wait on it
    masked = masked_streams(secrets) if not no_masking else []
    status = supervisor.run_command(command, {**caller, **additions}, secrets, masked)
    sys.stdout.flush()
    raise typer.Exit(status)


def masked_streams(secrets: list[str]) -> list[int]:
    """Which of CMD's stdout (1) and stderr (2) are masked: those that are no terminal.
    A note says when a terminal gets them unmasked."""
    if not secrets:
        return []
    masked = [fd for fd in (1, 2) if not os.isatty(fd)]
    if len(masked) < 2:
        note(
            "output to the terminal is not masked, only output to pipes and files "
            "(--no-masking: no masking and no note)"
        )
    return masked


def command_environment(
    client: Client, names: list[str], every: bool, caller: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """The variables ``run`` adds to the ``caller``'s environment for the providers
    ``names`` (and, with ``every``, each authenticated one), and every secret they resolve
    to (those from the environment too), to mask. All is resolved before anything runs.

    Raises UnknownProvider, NotAuthenticated, ConfigError and the daemon's errors.
    """
    specs = _providers(client, names, every)
    resolutions = [client.auth_resolve(name) for name in specs]
    additions: dict[str, str] = {}
    secrets: list[str] = []
    for spec, resolution in zip(specs.values(), resolutions, strict=True):
        variable, value = spec.env, resolution.secret
        if value is not None:
            secrets.append(value)
        elif spec.host_env:  # a local server: where it listens
            variable, value = spec.host_env, server_root(spec, {})
        if variable and value and not caller.get(variable):
            additions[variable] = value
    return additions, secrets


def _providers(client: Client, names: list[str], every: bool) -> dict[str, ProviderSpec]:
    """The providers ``names`` and, with ``every``, each authenticated one, by name."""
    registry = client.load_registry()
    specs = {spec.name: spec for spec in map(registry.get, names)}
    if every:
        for status in client.auth_status_all():
            if status.status == protocol.AUTHENTICATED:
                specs.setdefault(status.provider, registry.get(status.provider))
        if not specs:
            note("no provider is authenticated: the command gets no credential")
    return specs


def register(app: typer.Typer) -> None:
    """Add ``token`` and ``run`` to the root command."""
    app.command("token", help=token_output.HELP, epilog=EXIT_HELP)(token)
    app.command(
        "run",
        help=RUN_HELP,
        epilog=EXIT_HELP,
        context_settings={"allow_interspersed_args": False},
    )(run)
