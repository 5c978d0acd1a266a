"""The service definitions that ship with nxuskitd, filled in for this installation.

The templates are package data of the daemon, ``nxuskitd/units/`` (the top-level
``systemd/`` and ``launchd/`` folders of the source tree link to them). They are found with
``importlib.util.find_spec``, which locates the installed nxuskitd without importing it:
the CLI never imports the daemon. Placeholders: ``@NXUSKITD@`` (the absolute path of the
``nxuskitd`` program) in all three; ``@SOCKET@`` and ``@LOG@`` in the plist, since launchd
expands neither ``~`` nor ``$HOME``.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import sys
import sysconfig
from xml.sax.saxutils import escape

from nxuskit_cli.output import ServiceError

SYSTEMD_SOCKET = "nxuskitd.socket"
SYSTEMD_SERVICE = "nxuskitd.service"
SYSTEMD_UNITS = (SYSTEMD_SOCKET, SYSTEMD_SERVICE)
LAUNCHD_LABEL = "com.nxuskit.nxuskitd"
LAUNCHD_PLIST = f"{LAUNCHD_LABEL}.plist"
PLACEHOLDER = "@NXUSKITD@"

_PLAIN_WORD = re.compile(r"[A-Za-z0-9/._+@:,=-]+")


def template_dir() -> str:
    """The directory of the installed nxuskitd's unit templates."""
    spec = importlib.util.find_spec("nxuskitd")
    locations = list(spec.submodule_search_locations or []) if spec else []
    for location in locations:
        candidate = os.path.join(location, "units")
        if os.path.isdir(candidate):
            return candidate
    raise ServiceError(
        "cannot find nxuskitd's service files (nxuskitd/units): reinstall nxuskit "
        "(pip install --force-reinstall nxuskit)"
    )


def template(name: str) -> str:
    """The text of the template ``name`` (a unit file or the plist)."""
    with open(os.path.join(template_dir(), name), encoding="utf-8") as handle:
        return handle.read()


def systemd_word(value: str) -> str:
    """``value`` as the program of a systemd command line (``ExecStart=``): ``%`` doubled
    so that no specifier is expanded, quoted when it has spaces, quotes or backslashes.
    (systemd expands ``$VARIABLES`` in the arguments only, never in the program's path.)"""
    escaped = value.replace("%", "%%")
    if _PLAIN_WORD.fullmatch(value):
        return escaped
    return '"' + escaped.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_systemd(nxuskitd: str) -> dict[str, str]:
    """The two user units (file name -> text) with ``nxuskitd`` as the program."""
    word = systemd_word(nxuskitd)
    return {name: template(name).replace(PLACEHOLDER, word) for name in SYSTEMD_UNITS}


def render_launchd(nxuskitd: str, socket: str, log: str) -> str:
    """The LaunchAgent plist with absolute paths for the program, socket and log."""
    text = template(LAUNCHD_PLIST)
    for placeholder, value in ((PLACEHOLDER, nxuskitd), ("@SOCKET@", socket), ("@LOG@", log)):
        text = text.replace(placeholder, escape(value))
    return text


def find_nxuskitd() -> str:
    """The absolute path of the ``nxuskitd`` installed with this nxuskit-cli.

    Looks beside the running Python first (a venv's or pipx's bin directory, where pip put
    both programs), then in the install schemes' script directories, then on PATH.
    Raises ServiceError when there is none.
    """
    name = "nxuskitd.exe" if sys.platform == "win32" else "nxuskitd"
    directories = [
        os.path.dirname(sys.executable),
        sysconfig.get_path("scripts"),
        sysconfig.get_path("scripts", sysconfig.get_preferred_scheme("user")),
    ]
    for directory in directories:
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return os.path.abspath(candidate)
    found = shutil.which(name)
    if found:
        return os.path.abspath(found)
    raise ServiceError(
        f"cannot find the nxuskitd program (looked beside {sys.executable} and on PATH): "
        "reinstall nxuskit (pip install nxuskit)"
    )
