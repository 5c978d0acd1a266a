"""``nxuskit-cli team ...``: the team store (OpenBao or Vault) nxuskitd reads shared keys from.

``login`` gives the daemon its credential for the store (a token, or an AppRole
secret_id), which it keeps in the personal store, never in config.toml; ``status`` shows
the daemon's token (TTL, policies: never the token) and whether the store answers;
``logout`` deletes the credential. The store itself is configured in config.toml's
``[team]`` (docs/team.md).
"""

from __future__ import annotations

import sys

import typer

from nxuskit.answers import TeamInfo
from nxuskit.credential import EDGE_WHITESPACE
from nxuskit.errors import ConfigError, DaemonNotRunning, InvalidArgument
from nxuskit.registry import Registry
from nxuskit_cli.options import JsonOption, client_of, not_running, read_only_client
from nxuskit_cli.output import EXIT_HELP, EXIT_INTERRUPTED, print_json
from nxuskit_cli.table import render

app = typer.Typer(
    help="The team store (OpenBao or Vault) that shares provider keys: log in, status, log out.",
    epilog=EXIT_HELP,
    no_args_is_help=True,
)

_MAX_STDIN = 64 * 1024


def summary(info: TeamInfo) -> str:
    """One line on the team store, for the footers of ``provider status`` and ``daemon
    status``: where it is, whether it answers, and what is wrong."""
    where = info.address or "not used"
    if info.error is not None and info.address is None:
        return f"{where}: {info.error}"
    insecure = ", plain http (insecure_http = true)" if info.insecure else ""
    answers = {True: "reachable", False: "not reachable", None: "not asked yet"}
    text = f"{where} ({info.auth} auth{insecure}): {answers[info.reachable]}"
    if info.authenticated:
        text += ", authenticated"
    for problem in (info.error, info.warning):
        if problem:
            text += f"; {problem}"
    return text


def _auth_of(registry: Registry) -> str:
    """How the daemon authenticates to the team store (``[team]`` ``auth``)."""
    table = registry.team.value if registry.team is not None else None
    if table is None:
        raise ConfigError(
            f"no team store is configured: add a [team] table with its address to "
            f"{registry.source} (see docs/team.md)"
        )
    auth = table.get("auth", "token") if isinstance(table, dict) else "token"
    return auth if isinstance(auth, str) else "token"


def _read_secret(what: str) -> str:
    """The token or secret_id: from stdin when it is a pipe or a file, else a prompt
    without echo (Ctrl-C: exit 130, nothing stored)."""
    if not sys.stdin.isatty():
        data = sys.stdin.read(_MAX_STDIN + 1)
        secret = data.strip(EDGE_WHITESPACE) if len(data) <= _MAX_STDIN else ""
        if not secret:
            raise InvalidArgument(
                f"no {what} on stdin (or over 64 KiB): pipe the {what} alone, or run the "
                "command in a terminal to be prompted"
            )
        return secret
    import getpass

    try:
        secret = getpass.getpass(f"{what[0].upper()}{what[1:]} for the team store: ")
    except (KeyboardInterrupt, EOFError) as error:
        print(file=sys.stderr)
        if isinstance(error, EOFError):
            raise InvalidArgument(f"no {what} entered: nothing was stored") from None
        print("nxuskit-cli: interrupted; nothing was stored", file=sys.stderr)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    return secret.strip(EDGE_WHITESPACE)


def _rows(info: TeamInfo) -> list[tuple[str, str]]:
    others = [address for address in info.addresses if address != info.address]
    rows = [("address", info.address or "-")]
    if others:
        rows.append(("other nodes", ", ".join(others)))
    rows += [
        ("secrets", f"{info.path}, field {info.field}"),
        ("auth", info.auth + (" (plain http: insecure_http = true)" if info.insecure else "")),
        ("reachable", {True: "yes", False: "no", None: "not asked yet"}[info.reachable]),
    ]
    if info.authenticated:
        ttl = "never expires" if info.token_ttl is None else f"ttl {info.token_ttl:.0f} s"
        renewable = ", renewable" if info.renewable else ", not renewable"
        rows.append(("token", f"{ttl}{renewable}; policies: {', '.join(info.policies)}"))
    else:
        rows.append(("token", "none"))
    rows.append(
        ("cache", f"{info.cached} keys, served {info.cache_ttl:g} s, then up to "
                  f"{info.max_stale:g} s more while the store does not answer")
    )  # fmt: skip
    for label, text in (("warning", info.warning), ("error", info.error)):
        if text:
            rows.append((label, text))
    return rows


@app.command()
def status(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Show the team store: its address, whether it answers, and the daemon's token
    (its TTL and policies, never the token).

    Exits 0 when the store answers and the daemon is authenticated to it, else 1. Never
    starts nxuskitd (exits 4 when it is not running).
    """
    client = read_only_client(ctx)
    try:
        info = client.team_status()
    except DaemonNotRunning:
        raise not_running(client, "the team store's status is unknown") from None
    if json_output:
        print_json(info)
    else:
        print(render(None, _rows(info)))
    if not (info.reachable and info.authenticated):
        raise typer.Exit(1)


@app.command()
def login(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Give nxuskitd its credential for the team store, checked with the store first.

    With auth = "token" (the default) that is your token; with auth = "approle" and no
    secret_id_file, the AppRole's secret_id. You are prompted without echo, or it is read
    from stdin (`bao token create ... -field=token | nxuskit-cli team login`). nxuskitd
    keeps it in your personal store (the OS keyring or its 0600 file), never in
    config.toml.
    """
    client = client_of(ctx)
    what = "AppRole secret_id" if _auth_of(client.load_registry()) == "approle" else "token"
    info = client.team_login(_read_secret(what))
    if json_output:
        print_json(info)
        return
    ttl = "never expires" if info.token_ttl is None else f"ttl {info.token_ttl:.0f} s"
    policies = ", ".join(info.policies) or "none"
    print(f"Logged in to the team store at {info.address} (token {ttl}, policies: {policies}).")


@app.command()
def logout(ctx: typer.Context, json_output: JsonOption = False) -> None:
    """Delete the team credential from your personal store; nxuskitd forgets its team
    token and the team keys it cached (a token the daemon got by AppRole is revoked)."""
    result = client_of(ctx).team_logout()
    if json_output:
        print_json(result)
    elif result.removed:
        print(f"Logged out of the team store; forgot {result.forgotten} cached team keys.")
    else:
        print("No team credential was stored; nothing removed.")
