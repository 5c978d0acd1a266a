"""Process hardening: no core dumps, no ptrace by other processes, private files."""

from __future__ import annotations

import contextlib
import logging
import os
import resource
import sys

log = logging.getLogger(__name__)
_PR_SET_DUMPABLE = 4


def harden_process() -> None:
    """Turn off core dumps and (Linux) ptrace by non-root peers; make new files private.

    Also raises the open-file limit to its hard maximum so that many clients fit.
    """
    os.umask(0o077)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                log.warning("could not mark the process non-dumpable")
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or hard > soft:
        target = 65536 if hard == resource.RLIM_INFINITY else hard
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
