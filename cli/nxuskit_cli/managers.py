"""The two service managers nxuskitd runs under, as plans of steps.

``Systemd``: user units in ``$XDG_CONFIG_HOME/systemd/user`` (``~/.config/systemd/user``),
``systemctl --user daemon-reload`` and ``enable --now nxuskitd.socket``; the log is the
journal. ``Launchd``: ``~/Library/LaunchAgents/com.nxuskit.nxuskitd.plist`` with absolute
paths, ``launchctl bootstrap gui/<uid>``; the log is a file. Before the service manager
takes the socket over, a daemon started by hand or by a client on that socket is stopped.
"""

from __future__ import annotations

import os
import shutil
import sys

from nxuskit import paths
from nxuskit_cli import units
from nxuskit_cli.steps import MakeDirectory, RemoveFile, Run, Step, StopDaemon, WriteFile

PACKAGED_UNIT_DIRS = (
    "/etc/systemd/user",
    "/usr/local/lib/systemd/user",
    "/usr/lib/systemd/user",
    "/lib/systemd/user",
)


class Systemd:
    """systemd user units with socket activation (Linux)."""

    name = "systemd"
    units = units.SYSTEMD_UNITS

    @staticmethod
    def unit_dir() -> str:
        """Where ``install`` writes the units (the user's own unit directory)."""
        return os.path.join(paths.xdg_config_home(), "systemd", "user")

    def socket(self) -> str:
        """The socket path of nxuskitd.socket (``%t/nxuskit/nxuskitd.sock``): the
        clients' default, whatever --socket says."""
        return paths.default_socket_path()

    def unavailable(self) -> str | None:
        """Why systemd cannot be used here, or None when it can."""
        if not sys.platform.startswith("linux"):
            return f"systemd user units are for Linux, not {sys.platform}"
        if shutil.which("systemctl") is None:
            return "systemctl is not installed (this system does not run systemd)"
        if not os.path.isdir("/run/systemd/system"):
            return "systemd is not running on this machine (PID 1 is not systemd: a container?)"
        return None

    def installed(self) -> bool:
        """Whether nxuskitd.socket is installed (by us, or by a distribution package)."""
        return any(
            os.path.exists(os.path.join(directory, units.SYSTEMD_SOCKET))
            for directory in (self.unit_dir(), *PACKAGED_UNIT_DIRS)
        )

    def _systemctl(self, *args: str, may_fail: bool = False) -> Run:
        return Run(("systemctl", "--user", *args), may_fail)

    def install(self, nxuskitd: str) -> list[Step]:
        """Write the units, hand the socket to systemd, enable it at login and start it."""
        directory = self.unit_dir()
        rendered = units.render_systemd(nxuskitd)
        return [
            MakeDirectory(directory, 0o755),
            *(WriteFile(os.path.join(directory, name), text) for name, text in rendered.items()),
            StopDaemon(self.socket()),
            self._systemctl("daemon-reload"),
            self._systemctl("enable", "--now", units.SYSTEMD_SOCKET),
            self._systemctl("try-restart", units.SYSTEMD_SERVICE),  # runs the new version
        ]

    def uninstall(self) -> list[Step]:
        """Stop and disable both units, remove their files."""
        directory = self.unit_dir()
        return [
            self._systemctl("disable", "--now", *self.units, may_fail=True),
            *(RemoveFile(os.path.join(directory, name)) for name in self.units),
            self._systemctl("daemon-reload"),
        ]

    def start(self) -> list[Step]:
        """Listen on the socket and start the daemon now (after stopping one a client
        may have started meanwhile: it would hold the instance lock)."""
        return [StopDaemon(self.socket()), self._systemctl("start", *self.units)]

    def stop(self) -> list[Step]:
        """Stop the daemon and the socket (until ``start``, or the next login)."""
        return [self._systemctl("stop", *self.units)]

    def after_stop(self) -> str:
        """What starts the daemon again once ``stop`` stopped the socket too."""
        return (
            "systemd starts it again at your next login if nxuskitd.socket is enabled (as "
            "`daemon install` leaves it), or with `nxuskit-cli daemon start`"
        )

    def still_listening(self) -> str:
        """What starts the daemon again when only the daemon was stopped."""
        return (
            "systemd's nxuskitd.socket will start it again on the next connection; "
            "`systemctl --user stop nxuskitd.socket` to prevent that"
        )

    def logs(self, follow: bool, lines: int) -> list[str] | None:
        """The journalctl command that shows the daemon's log."""
        argv = ["journalctl", "--user", "-u", units.SYSTEMD_SERVICE, "-u", units.SYSTEMD_SOCKET]
        return [*argv, "-n", str(lines), *(["-f"] if follow else [])]


class Launchd:
    """A LaunchAgent with a Sockets entry (macOS) listening on ``socket_path`` (default:
    the clients' socket path)."""

    name = "launchd"

    def __init__(self, socket_path: str | None = None) -> None:
        self.socket_path = socket_path

    @staticmethod
    def plist() -> str:
        """Where ``install`` writes the LaunchAgent."""
        return os.path.expanduser(f"~/Library/LaunchAgents/{units.LAUNCHD_PLIST}")

    @staticmethod
    def domain() -> str:
        """The user's GUI launchd domain."""
        return f"gui/{os.getuid()}"

    def target(self) -> str:
        """The job in that domain."""
        return f"{self.domain()}/{units.LAUNCHD_LABEL}"

    def socket(self) -> str:
        """The socket launchd creates: the one --socket names, else the clients' own."""
        return self.socket_path or paths.socket_path()

    def unavailable(self) -> str | None:
        """Why launchd cannot be used here, or None when it can."""
        if sys.platform != "darwin":
            return f"launchd LaunchAgents are for macOS, not {sys.platform}"
        if shutil.which("launchctl") is None:
            return "launchctl is not on PATH"
        return None

    def installed(self) -> bool:
        """Whether the LaunchAgent plist is in place."""
        return os.path.exists(self.plist())

    def install(self, nxuskitd: str) -> list[Step]:
        """Write the plist with absolute paths and load it into the GUI domain."""
        socket, log = self.socket(), paths.daemon_log_path()
        return [
            MakeDirectory(os.path.dirname(self.plist()), 0o755),
            MakeDirectory(os.path.dirname(socket), 0o700),
            MakeDirectory(os.path.dirname(log), 0o700),
            WriteFile(self.plist(), units.render_launchd(nxuskitd, socket, log)),
            StopDaemon(socket),
            Run(("launchctl", "bootout", self.target()), may_fail=True),  # an older version
            Run(("launchctl", "enable", self.target())),
            Run(("launchctl", "bootstrap", self.domain(), self.plist())),
        ]

    def uninstall(self) -> list[Step]:
        """Unload the job (launchd removes its socket) and remove the plist."""
        return [
            Run(("launchctl", "bootout", self.target()), may_fail=True),
            RemoveFile(self.plist()),
        ]

    def start(self) -> list[Step]:
        """Load the job if it is not (it is after a login) and start the daemon now."""
        return [
            StopDaemon(self.socket()),
            Run(("launchctl", "bootstrap", self.domain(), self.plist()), may_fail=True),
            Run(("launchctl", "kickstart", self.target())),
        ]

    def stop(self) -> list[Step]:
        """Unload the job (until ``start``, or the next login)."""
        return [Run(("launchctl", "bootout", self.target()))]

    def after_stop(self) -> str:
        """What starts the daemon again once ``stop`` unloaded the job."""
        return "launchd starts it again at your next login or with `nxuskit-cli daemon start`"

    def still_listening(self) -> str:
        """What starts the daemon again when only the daemon was stopped."""
        return (
            "launchd will start it again on the next connection; "
            f"`launchctl bootout {self.target()}` to prevent that"
        )

    def logs(self, follow: bool, lines: int) -> list[str] | None:
        """None: the log is the file ``paths.daemon_log_path()``, which the CLI shows."""
        return None


Manager = Systemd | Launchd

BY_NAME: dict[str, type[Manager]] = {"systemd": Systemd, "launchd": Launchd}
"""The managers by the name a daemon gives as its ``started_by``."""


def current(socket_path: str | None = None) -> Manager:
    """The service manager of this platform (launchd on macOS, systemd elsewhere);
    ``socket_path`` is where a LaunchAgent listens (systemd's unit names its own)."""
    return Launchd(socket_path) if sys.platform == "darwin" else Systemd()
