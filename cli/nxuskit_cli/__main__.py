"""Entry point of ``nxuskit-cli``: runs the app; no traceback ever reaches the user.

Only the standard library and ``nxuskit`` (the client) are imported before the app: so
that an installation without the ``cli`` extra says what to install in one line.

``nxuskit-cli token PROVIDER`` runs at every start of the tools that use it as a key
helper, so exactly that spelling (``[--socket PATH] token PROVIDER``) is answered by
``nxuskit_cli.token`` with the standard-library client, before typer (~40 ms) is
imported; every other spelling, ``token --help`` included, goes through typer. Errors
of both ways end in ``main``'s handlers: the same line, the same exit status. This
module itself imports nothing slow (``typing``, ``signal``) for the same reason.
"""

from __future__ import annotations

import os
import sys

from nxuskit.errors import NxuskitError
from nxuskit_cli import token
from nxuskit_cli.output import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_MISSING_DEPENDENCY,
    error_line,
    exit_code,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import NoReturn

CLI_DEPENDENCIES = ("typer", "rich")
"""What the ``cli`` extra installs for the command line itself."""


def _missing_dependency(error: ModuleNotFoundError) -> NoReturn:
    print(
        f"nxuskit-cli: {error.name} is not installed: the command line needs nxuskit's cli "
        "extra: pip install 'nxuskit[cli]'",
        file=sys.stderr,
    )
    sys.exit(EXIT_MISSING_DEPENDENCY)


def _broken_pipe() -> NoReturn:
    """The reader of our output went away (``nxuskit-cli provider list | head -1``): end as
    git and gh do, without a word, killed by SIGPIPE (the shell shows 141). Python ignores
    SIGPIPE, so the default is restored first; stdout goes to /dev/null so that the flush
    at exit cannot fail again."""
    import signal

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.__stdout__.fileno() if sys.__stdout__ is not None else 1)
    if hasattr(signal, "SIGPIPE"):  # not on Windows
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(128 + 13)


def _internal_error(error: Exception) -> NoReturn:
    """A bug: say so in one line, keep the traceback out."""
    print(
        f"nxuskit-cli: internal error ({type(error).__name__}); please report it, "
        "with the command you ran",
        file=sys.stderr,
    )
    sys.exit(EXIT_INTERNAL)


def _run() -> None:
    from nxuskit_cli.app import app

    try:
        app()  # ends with SystemExit, even on success
    except SystemExit as exiting:
        # typer answers a broken pipe during a command with exit 1: here it is ours.
        if isinstance(exiting.__context__, BrokenPipeError):
            _broken_pipe()
        try:
            sys.stdout.flush()  # a closed pipe shows here, not as an error ignored at exit
        except BrokenPipeError:
            _broken_pipe()
        raise


def main() -> None:
    """Run nxuskit-cli and exit with its status."""
    try:
        if not token.answer_fast(sys.argv[1:]):
            _run()
    except NxuskitError as error:  # every command lets these through to here
        print(error_line(error), file=sys.stderr)
        sys.exit(exit_code(error))
    except KeyboardInterrupt:
        print("nxuskit-cli: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except BrokenPipeError:
        _broken_pipe()
    except ModuleNotFoundError as error:
        if (error.name or "").split(".")[0] not in CLI_DEPENDENCIES:
            _internal_error(error)
        _missing_dependency(error)
    except Exception as error:
        _internal_error(error)


if __name__ == "__main__":
    main()
