"""Entry point of ``nxuskit-cli``: runs the app; no traceback ever reaches the user."""

from __future__ import annotations

import sys

from nxuskit.errors import NxuskitError
from nxuskit_cli.output import EXIT_INTERNAL, EXIT_INTERRUPTED, error_line, exit_code


def main() -> None:
    """Run nxuskit-cli and exit with its status."""
    from nxuskit_cli.app import app

    try:
        app()
    except NxuskitError as error:  # every command lets these through to here
        print(error_line(error), file=sys.stderr)
        sys.exit(exit_code(error))
    except KeyboardInterrupt:
        print("nxuskit-cli: interrupted", file=sys.stderr)
        sys.exit(EXIT_INTERRUPTED)
    except Exception as error:  # a bug: say so in one line, keep the traceback out
        print(
            f"nxuskit-cli: internal error ({type(error).__name__}); please report it, "
            "with the command you ran",
            file=sys.stderr,
        )
        sys.exit(EXIT_INTERNAL)


if __name__ == "__main__":
    main()
