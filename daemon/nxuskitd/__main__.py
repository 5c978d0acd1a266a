"""``nxuskitd``: parse flags, harden the process, serve until a signal."""

from __future__ import annotations

import logging
import signal
import sys

import anyio

from nxuskit.errors import NxuskitError
from nxuskitd import config as daemon_config
from nxuskitd import logs
from nxuskitd.hardening import harden_process
from nxuskitd.runtime import StartupError
from nxuskitd.server import STOP_SIGNALS, serve


def _backend_options() -> dict[str, bool]:
    """uvloop where it is installed: bench/ measured ~15% shorter round trips with it."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return {}
    return {"use_uvloop": True}


def main(argv: list[str] | None = None) -> int:
    """Run the daemon in the foreground; returns the process exit status."""
    config = daemon_config.from_args(argv)
    logs.configure(config.log_level)
    harden_process()
    if hasattr(signal, "pthread_sigmask"):
        # Held back from bind() until the signal handlers are in place: a SIGTERM sent as
        # soon as the socket answers would otherwise kill the daemon and leave its socket.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    try:
        return anyio.run(serve, config, backend_options=_backend_options())
    except (StartupError, NxuskitError) as exc:
        logging.getLogger("nxuskitd").error("cannot start: %s", exc)
        return 1
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
