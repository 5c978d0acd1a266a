"""The steps of a service plan: write or remove a file, make a directory, run a command,
stop a daemon. Each step can describe itself (``--dry-run``) or be applied.

``apply`` returns a line for the user (or None) and raises ServiceError when it fails, so
that a plan stops at its first failed step with a message saying which one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time

from nxuskit.answers import DaemonStatus
from nxuskit.client import Client
from nxuskit.errors import NxuskitError
from nxuskit_cli.output import ServiceError

STOP_TIMEOUT = 10.0
BY_CLIENT = ("hand", "autostart")
"""The ``started_by`` (``protocol.STARTED_BY``) of a daemon no service manager owns."""
ASK_TIMEOUT = 5.0
"""Seconds to wait for the daemon's ``daemon.status`` before stopping it."""


@dataclasses.dataclass(frozen=True)
class WriteFile:
    """Write ``text`` to ``path`` atomically (temp file, fsync, rename) with ``mode``."""

    path: str
    text: str
    mode: int = 0o644

    def describe(self) -> str:
        """The dry-run lines: the path, then the whole content."""
        return f"# write {self.path} (mode {self.mode:o}):\n{self.text.rstrip()}\n"

    def apply(self) -> str | None:
        """Write the file."""
        directory = os.path.dirname(self.path)
        try:
            fd, temporary = tempfile.mkstemp(dir=directory, prefix=".nxuskit-")
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(self.text)
                    handle.flush()
                    os.fchmod(handle.fileno(), self.mode)
                    os.fsync(handle.fileno())
                os.replace(temporary, self.path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(temporary)
                raise
        except OSError as exc:
            raise ServiceError(f"cannot write {self.path}: {exc.strerror}") from None
        return f"wrote {self.path}"


@dataclasses.dataclass(frozen=True)
class RemoveFile:
    """Remove ``path`` if it exists."""

    path: str

    def describe(self) -> str:
        """The dry-run line."""
        return f"# remove {self.path}"

    def apply(self) -> str | None:
        """Remove the file; a missing one is fine."""
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise ServiceError(f"cannot remove {self.path}: {exc.strerror}") from None
        return f"removed {self.path}"


@dataclasses.dataclass(frozen=True)
class MakeDirectory:
    """Create ``path`` (and its parents) with ``mode`` unless it exists."""

    path: str
    mode: int = 0o755

    def describe(self) -> str:
        """The dry-run line."""
        return f"# create directory {self.path} (mode {self.mode:o}) if missing"

    def apply(self) -> str | None:
        """Create the directory."""
        if os.path.isdir(self.path):
            return None
        try:
            os.makedirs(self.path, mode=self.mode, exist_ok=True)
        except OSError as exc:
            raise ServiceError(f"cannot create {self.path}: {exc.strerror}") from None
        return f"created {self.path}"


@dataclasses.dataclass(frozen=True)
class Run:
    """Run ``argv``; a failure stops the plan unless ``may_fail`` (e.g. unloading a job
    that was not loaded)."""

    argv: tuple[str, ...]
    may_fail: bool = False

    @property
    def command(self) -> str:
        """The command as a shell would show it."""
        return shlex.join(self.argv)

    def describe(self) -> str:
        """The dry-run line."""
        return f"# run: {self.command}" + ("  (a failure is ignored)" if self.may_fail else "")

    def apply(self) -> str | None:
        """Run the command and check its exit status."""
        try:
            done = subprocess.run(
                self.argv, capture_output=True, text=True, timeout=60, check=False
            )
        except FileNotFoundError:
            raise ServiceError(
                f"{self.argv[0]} is not installed; cannot run {self.command}"
            ) from None
        except subprocess.TimeoutExpired:
            raise ServiceError(f"{self.command} did not finish within 60 s") from None
        if done.returncode != 0 and not self.may_fail:
            output = (done.stderr.strip() or done.stdout.strip()).splitlines()
            detail = f": {output[-1]}" if output else ""
            raise ServiceError(f"{self.command} failed (exit {done.returncode}){detail}")
        return f"ran {self.command}"


def running_daemon(path: str) -> DaemonStatus | None:
    """``daemon.status`` of the daemon serving ``path``, or None when none answers there.
    Never starts one."""
    with Client(path, autostart=False, timeout=ASK_TIMEOUT) as client:
        try:
            return client.daemon_status()
        except NxuskitError:
            return None


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    if sys.platform.startswith("linux"):  # a zombie has exited; its parent reaps it later
        with contextlib.suppress(OSError), open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[-1].split()[0] == b"Z"
    return False


@dataclasses.dataclass(frozen=True)
class StopDaemon:
    """SIGTERM the daemon serving ``socket`` and wait until it has exited. With
    ``outside_manager`` only one started by hand or by a client (so a service manager can
    take the socket over); otherwise any."""

    socket: str
    outside_manager: bool = True

    def describe(self) -> str:
        """The dry-run line."""
        which = "started by hand or by a client" if self.outside_manager else "running"
        return f"# stop the nxuskitd {which} on {self.socket}, if any (SIGTERM)"

    def apply(self) -> str | None:
        """Stop the daemon (nothing when none runs)."""
        info = running_daemon(self.socket)
        if info is None:
            return None if self.outside_manager else f"no nxuskitd answers on {self.socket}"
        started_by = info.started_by
        if self.outside_manager and started_by not in BY_CLIENT:
            return None
        pid = info.pid
        if pid <= 1:
            raise ServiceError(f"the daemon on {self.socket} reports no usable pid ({pid!r})")
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while not _gone(pid):
            if time.monotonic() > deadline:
                raise ServiceError(f"nxuskitd (pid {pid}) did not stop within {STOP_TIMEOUT:.0f} s")
            time.sleep(0.05)
        return f"stopped nxuskitd (pid {pid}, started by {started_by})"


Step = WriteFile | RemoveFile | MakeDirectory | Run | StopDaemon
