"""The ``nxuskitd`` program: the daemon's entry point, standard library only until its
dependencies are known to be installed.

``pip install nxuskit`` installs the client alone; the daemon's dependencies come with the
``daemon`` extra (``nxuskit[daemon]``, also part of ``nxuskit[cli]`` and ``nxuskit[all]``).
Without them, ``nxuskitd`` says so in one line instead of a traceback.
"""

from __future__ import annotations

import importlib.util
import sys

DEPENDENCIES = ("anyio", "msgspec", "platformdirs", "keyring", "authlib", "httpx2")
"""The modules the ``daemon`` extra installs (uvloop too, which is optional at run time)."""

EXIT_CANNOT_START = 1  # as for every other reason nxuskitd cannot start


def missing_dependencies() -> list[str]:
    """The daemon's dependencies that are not installed (found without importing them)."""
    return [name for name in DEPENDENCIES if importlib.util.find_spec(name) is None]


def main() -> None:
    """Run nxuskitd, or say which extra to install and exit 1."""
    missing = missing_dependencies()
    if missing:
        verb = "is" if len(missing) == 1 else "are"
        print(
            f"nxuskitd: cannot start: {', '.join(missing)} {verb} not installed: the daemon "
            "needs nxuskit's daemon extra: pip install 'nxuskit[daemon]'",
            file=sys.stderr,
        )
        sys.exit(EXIT_CANNOT_START)
    from nxuskitd.__main__ import main as run

    sys.exit(run())
