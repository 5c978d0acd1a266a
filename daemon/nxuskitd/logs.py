"""The daemon's log on stderr: journald stamps each line itself, anywhere else (a terminal,
the autostart log file, launchd's StandardErrorPath) each line starts with its time.

journald is recognised as systemd documents it (systemd.exec(5), ``$JOURNAL_STREAM``):
the variable holds the device and inode of the stream journald connected, and matches
stderr only while stderr really is that stream (not when it was redirected to a file).
"""

from __future__ import annotations

import datetime
import logging
import os
import sys
from typing import TextIO

FORMAT = "nxuskitd: %(levelname)s: %(message)s"


def under_journald(stream: TextIO) -> bool:
    """True when ``stream`` is the one journald connected ($JOURNAL_STREAM="DEV:INODE")."""
    device, _, inode = os.environ.get("JOURNAL_STREAM", "").partition(":")
    if not (device.isdigit() and inode.isdigit()):
        return False
    try:
        status = os.fstat(stream.fileno())
    except (OSError, ValueError, AttributeError):  # closed, or not a real file
        return False
    return (status.st_dev, status.st_ino) == (int(device), int(inode))


class IsoTimeFormatter(logging.Formatter):
    """Stamps lines with the local time in ISO 8601, to the millisecond, with its offset
    (2025-11-29T14:03:07.512+01:00): unambiguous across time zones and DST."""

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        moment = datetime.datetime.fromtimestamp(record.created).astimezone()
        return moment.isoformat(timespec="milliseconds")


def configure(level: str, stream: TextIO | None = None) -> None:
    """Send the daemon's log to ``stream`` (stderr), with times unless journald adds them."""
    stream = stream if stream is not None else sys.stderr
    handler = logging.StreamHandler(stream)
    if under_journald(stream):
        handler.setFormatter(logging.Formatter(FORMAT))
    else:
        handler.setFormatter(IsoTimeFormatter("%(asctime)s " + FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler])
