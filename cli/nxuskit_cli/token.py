"""``nxuskit-cli token PROVIDER``: the resolved secret and one newline on stdout, nothing else.

For key-helper settings that run a command and read its stdout (Claude Code's
``apiKeyHelper`` runs it through a shell) and for ``OPENAI_API_KEY=$(nxuskit-cli token
openai) some-tool``. Tools run it at every start, so it must be light: ``__main__`` hands
exactly ``[--socket PATH] token PROVIDER`` to ``answer_fast`` before typer is imported.
Any other spelling (``token --help``, a missing or an extra argument, an option where
the provider goes) is left to typer, whose ``token`` command (``nxuskit_cli.bridges``)
calls the same ``print_token``. This module imports only the standard library and, when
it answers, the ``nxuskit`` client.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from nxuskit.client import Client

HELP = (
    "Print a provider's credential, for key helpers and $(...).\n\n"
    "Only the credential and one newline go to stdout. It is resolved as apps resolve "
    "it: the provider's environment variable when set, else the stored key or OAuth "
    "login (refreshed when due), so nxuskitd is started when needed. For key helpers "
    "that read a command's stdout, such as Claude Code's apiKeyHelper setting "
    "(`nxuskit-cli token claude`), and for `OPENAI_API_KEY=$(nxuskit-cli token openai) "
    "some-tool`. A provider without a credential is an error (exit 1), with nothing on "
    "stdout."
)

_SOCKET = "--socket"


def print_token(client: Client, provider: str) -> None:
    """Write ``provider``'s resolved secret and a newline to stdout, as bytes: a value
    from the environment comes out exactly as it was set.

    Raises what ``Client.auth_resolve`` raises (NotAuthenticated, UnknownProvider, ...),
    and InvalidArgument for a provider that needs no credential.
    """
    resolution = client.auth_resolve(provider)
    if resolution.secret is None:
        from nxuskit.errors import InvalidArgument

        raise InvalidArgument(
            f"{resolution.provider} needs no credential (a local server): there is no "
            "token to print; `nxuskit-cli provider list` shows its address"
        )
    sys.stdout.flush()
    sys.stdout.buffer.write(resolution.secret.encode("utf-8", "surrogateescape") + b"\n")
    sys.stdout.buffer.flush()  # a closed pipe shows here, as BrokenPipeError


def fast_arguments(argv: Sequence[str]) -> tuple[str | None, str] | None:
    """``(socket, provider)`` when ``argv`` (without the program) is exactly
    ``[--socket PATH | --socket=PATH] token PROVIDER``; None for anything else."""
    socket, rest = _socket_option(list(argv))
    if socket is not None and (not socket or socket.startswith("-")):
        return None  # an odd --socket value: typer judges it
    if len(rest) != 2 or rest[0] != "token" or rest[1].startswith("-"):
        return None
    return socket, rest[1]


def _socket_option(argv: list[str]) -> tuple[str | None, list[str]]:
    """A leading ``--socket PATH`` or ``--socket=PATH``'s value, and the arguments after it."""
    if len(argv) > 1 and argv[0] == _SOCKET:
        return argv[1], argv[2:]
    if argv and argv[0].startswith(_SOCKET + "="):
        return argv[0][len(_SOCKET) + 1 :], argv[1:]
    return None, argv


def answer_fast(argv: Sequence[str]) -> bool:
    """Answer ``argv`` when it is the plain ``token`` command (``fast_arguments``) and
    return True; False (nothing done) for anything else. Errors propagate, as typer's
    commands let them, to ``nxuskit_cli.__main__.main``."""
    found = fast_arguments(argv)
    if found is None:
        return False
    from nxuskit.client import Client

    socket, provider = found
    # As typer reads --socket: the flag, else a non-empty NXUSKIT_SOCKET, else the default.
    print_token(Client(socket or os.environ.get("NXUSKIT_SOCKET") or None), provider)
    return True
