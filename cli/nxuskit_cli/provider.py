"""``nxuskit-cli provider ...``: the group, and storing and removing API keys.

``status`` and ``list`` are in ``provider_status``, ``login`` and ``logout`` in
``provider_login``, ``verify`` in ``provider_verify``; each registers its commands here.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from nxuskit.client import Client
from nxuskit.credential import EDGE_WHITESPACE
from nxuskit.errors import InvalidArgument
from nxuskit.registry import shown_name
from nxuskit_cli import provider_login, provider_status, provider_verify
from nxuskit_cli.options import JsonOption, ProviderArg, client_of
from nxuskit_cli.output import EXIT_HELP, EXIT_INTERRUPTED, note, print_json

app = typer.Typer(
    help="Store, remove and inspect provider credentials.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)

_MAX_STDIN = 64 * 1024
STDIN = "-"  # as API_KEY: read the key from stdin


def _read_stdin(provider: str) -> str:
    data = sys.stdin.read(_MAX_STDIN + 1)
    if len(data) > _MAX_STDIN:
        raise InvalidArgument("stdin holds more than 64 KiB: pipe the API key alone")
    key = data.strip(EDGE_WHITESPACE)  # str.strip() would eat controls such as \x1f
    if not key:
        raise InvalidArgument(
            'no API key on stdin: pipe it in (printf %s "$KEY" | nxuskit-cli provider set '
            f"{provider}) or run the command in a terminal to be prompted"
        )
    return key


def _prompt(provider: str) -> str:
    """Ask on the terminal without echo. Ctrl-C: one line, exit 130; Ctrl-D: no key."""
    import getpass

    while True:
        try:
            key = getpass.getpass(f"API key for {provider}: ").strip(EDGE_WHITESPACE)
        except (KeyboardInterrupt, EOFError) as error:
            if sys.stderr.isatty():
                print(file=sys.stderr)  # the cursor still stands after the prompt
            if isinstance(error, EOFError):
                raise InvalidArgument(
                    f"no API key entered for {provider}: nothing was stored"
                ) from None
            print("nxuskit-cli: interrupted; nothing was stored", file=sys.stderr)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        if key:
            return key


def _read_key(provider: str) -> str:
    """The key from stdin when it is a pipe or a file, else from a prompt."""
    return _prompt(provider) if sys.stdin.isatty() else _read_stdin(provider)


def _env_note(client: Client, provider: str) -> None:
    spec = client.load_registry().get(provider)
    if spec.env and os.environ.get(spec.env):
        note(f"{spec.env} is set in this environment and takes precedence over the store")


@app.command("set")
def set_(
    ctx: typer.Context,
    provider: ProviderArg,
    api_key: Annotated[
        str | None,
        typer.Argument(
            metavar="[API_KEY]",
            help="The key, or - to read it from stdin. Better left out: you are then "
            "prompted without echo, or the key is read from stdin, which keeps it out of "
            "shell history and `ps`.",
            show_default=False,
        ),
    ] = None,
    json_output: JsonOption = False,
    team: Annotated[
        bool,
        typer.Option(
            "--team",
            help="Write the key to the team store (a new version of its secret, where "
            "its policy allows writes) instead of your personal store.",
        ),
    ] = False,
) -> None:
    """Store an API key for PROVIDER in the credential store.

    Examples:

      nxuskit-cli provider set openai            (prompts, without echo)

      pass show openai | nxuskit-cli provider set openai -

      nxuskit-cli provider set --team openai     (for everyone who reads the team store)
    """
    client = client_of(ctx)
    registry = client.load_registry()
    if registry.find(provider) is None and api_key is not None and registry.find(api_key):
        raise InvalidArgument(
            "the arguments look swapped: the provider comes first, as in "
            "`nxuskit-cli provider set openai` (and better leave the key out to be prompted)"
        )
    name = registry.get(provider).name
    key = api_key if api_key not in (None, STDIN) else _read_key(name)
    if team:
        _set_team(client, name, key, json_output)
        if api_key not in (None, STDIN):
            _argv_note(name)
        return
    replaced = client.auth_set_credential(name, key).replaced  # None: an older daemon
    if json_output:
        print_json({"provider": name, "stored": True, "replaced": replaced})
    elif replaced is True:
        print(f"Stored the API key for {name}, replacing the one stored before.")
    else:
        print(f"Stored the API key for {name}.")
    if api_key not in (None, STDIN):
        _argv_note(name)
    _env_note(client, name)


def _set_team(client: Client, name: str, key: str, json_output: bool) -> None:
    written = client.team_set_credential(name, key)
    if json_output:
        print_json(written)
    else:
        print(
            f"Wrote the API key for {name} to the team store: {written.path}, "
            f"version {written.version} ({written.address})."
        )


def _argv_note(provider: str) -> None:
    note(
        "a key given on the command line stays in your shell history and is visible to "
        "other users in `ps` while the command runs: leave it out to be prompted, or pipe "
        f"it: ... | nxuskit-cli provider set {provider} -"
    )


@app.command()
def remove(ctx: typer.Context, provider: ProviderArg, json_output: JsonOption = False) -> None:
    """Remove PROVIDER's stored credential (environment variables are untouched).

    PROVIDER may also be the exact name of a credential stored for a provider that
    config.toml no longer defines (`provider status` lists those).
    """
    client = client_of(ctx)
    spec = client.load_registry().find(provider)
    name = spec.name if spec is not None else provider  # maybe an orphan: the daemon knows
    removed = client.auth_remove_credential(name)
    shown = name if spec is not None else shown_name(name)
    if json_output:
        print_json({"provider": name, "removed": removed})
    elif removed:
        print(f"Removed the stored credential for {shown}.")
    else:
        print(f"No credential was stored for {shown}; nothing removed.")
    if spec is not None:
        _env_note(client, name)


provider_status.register(app)  # provider status, provider list
provider_login.register(app)  # provider login, provider logout
provider_verify.register(app)  # provider verify
