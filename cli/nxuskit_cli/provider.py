"""``nxuskit-cli provider ...``: set, remove, status, list (the product page's commands)."""

from __future__ import annotations

import os
import sys
import textwrap
from typing import Annotated, Any

import typer

import nxuskit
from nxuskit.answers import Stored
from nxuskit.auth import AuthStatus
from nxuskit.credential import EDGE_WHITESPACE
from nxuskit.errors import InvalidArgument
from nxuskit.registry import Registry, shown_name
from nxuskit_cli import verify
from nxuskit_cli.login import format_expiry, register
from nxuskit_cli.output import EXIT_HELP, EXIT_INTERRUPTED, note, print_json
from nxuskit_cli.table import footer, render

app = typer.Typer(
    help="Store, remove and inspect provider credentials.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)

ProviderArg = Annotated[
    str, typer.Argument(metavar="PROVIDER", help="A provider name or alias: openai, claude, ...")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")]

_STATUS_TEXT = {
    "authenticated": "Authenticated",
    "not_authenticated": "Not authenticated",
    "not_required": "Not required",
    "config_invalid": "Config invalid",
}
_MAX_STDIN = 64 * 1024
DASH = "\u2014"
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


def _env_note(provider: str) -> None:
    spec = nxuskit.load_registry().get(provider)
    if spec.env and os.environ.get(spec.env):
        note(f"{spec.env} is set in this environment and takes precedence over the store")


@app.command("set")
def set_(
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
) -> None:
    """Store an API key for PROVIDER in the credential store.

    Examples:

      nxuskit-cli provider set openai            (prompts, without echo)

      pass show openai | nxuskit-cli provider set openai -
    """
    registry = nxuskit.load_registry()
    if registry.find(provider) is None and api_key is not None and registry.find(api_key):
        raise InvalidArgument(
            "the arguments look swapped: the provider comes first, as in "
            "`nxuskit-cli provider set openai` (and better leave the key out to be prompted)"
        )
    name = registry.get(provider).name
    key = api_key if api_key not in (None, STDIN) else _read_key(name)
    replaced = _store(name, key).replaced  # None: an older daemon does not say
    if json_output:
        print_json({"provider": name, "stored": True, "replaced": replaced})
    elif replaced is True:
        print(f"Stored the API key for {name}, replacing the one stored before.")
    else:
        print(f"Stored the API key for {name}.")
    if api_key not in (None, STDIN):
        _argv_note(name)
    _env_note(name)


def _argv_note(provider: str) -> None:
    note(
        "a key given on the command line stays in your shell history and is visible to "
        "other users in `ps` while the command runs: leave it out to be prompted, or pipe "
        f"it: ... | nxuskit-cli provider set {provider} -"
    )


def _store(name: str, key: str) -> Stored:
    """``auth.set_credential``, whose answer says whether a stored credential was
    replaced (``nxuskit.auth_set_credential`` returns nothing)."""
    from nxuskit import connection, protocol
    from nxuskit.credential import check_secret

    params = {"provider": name, "secret": check_secret(key)}
    result = connection.call(protocol.SET_CREDENTIAL, params)
    return Stored.from_wire(result, protocol.SET_CREDENTIAL)


@app.command()
def remove(provider: ProviderArg, json_output: JsonOption = False) -> None:
    """Remove PROVIDER's stored credential (environment variables are untouched).

    PROVIDER may also be the exact name of a credential stored for a provider that
    config.toml no longer defines (`provider status` lists those).
    """
    spec = nxuskit.load_registry().find(provider)
    name = spec.name if spec is not None else provider  # maybe an orphan: the daemon knows
    removed = nxuskit.auth_remove_credential(name)
    shown = name if spec is not None else shown_name(name)
    if json_output:
        print_json({"provider": name, "removed": removed})
    elif removed:
        print(f"Removed the stored credential for {shown}.")
    else:
        print(f"No credential was stored for {shown}; nothing removed.")
    if spec is not None:
        _env_note(name)


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


@app.command()
def status(
    provider: Annotated[
        str | None, typer.Argument(metavar="[PROVIDER]", help="One provider (default: all).")
    ] = None,
    json_output: JsonOption = False,
) -> None:
    """Show which providers are authenticated, and from which source.

    With PROVIDER, exits 1 when it is not authenticated (0 otherwise), so scripts can
    write: nxuskit-cli provider status openai >/dev/null || nxuskit-cli provider set openai
    """
    report = nxuskit.auth_status_report(provider)
    statuses = report.statuses
    registry = nxuskit.load_registry()
    broken = registry.broken_status() if provider is None else []
    if json_output:
        print_json([*(s.to_dict() for s in statuses), *broken])
    else:
        print(_table(statuses, broken))
        if report.store is not None:
            print(footer("store: ", report.store.summary))
        if report.orphans:
            print(_orphans_footer(report.orphans))
    _config_notes(registry)
    if provider is not None and not statuses[0].authenticated:
        raise typer.Exit(1)


@app.command("list")
def list_(json_output: JsonOption = False) -> None:
    """List the known providers: built-in ones and those in config.toml."""
    registry = nxuskit.load_registry()
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


register(app)  # provider login, provider logout (nxuskit_cli.login)
verify.register(app)  # provider verify (nxuskit_cli.verify)
