"""The daemon's life: what ``nxuskit-cli daemon install|uninstall|start|stop|logs`` do.

``install`` and ``uninstall`` build a plan with the platform's service manager
(``managers``: systemd user units on Linux, a LaunchAgent on macOS) and carry it out step
by step, stopping at the first failure; ``--dry-run`` prints the plan (every file in full,
every command) and does nothing. Where no service manager can be used (a container, a
system without systemd) they refuse, saying why and pointing at ``--dry-run``.

``start``, ``stop`` and ``logs`` drive the service when it is installed, and otherwise the
plain daemon: started in the background as a client would start it, stopped with SIGTERM,
its log read from the file the autostarted daemon writes. Each takes the invocation's
Client, whose socket (``--socket``) is the one compared with the service's.
"""

from __future__ import annotations

import os
import subprocess
import time

from nxuskit import paths
from nxuskit.client import Client
from nxuskit_cli import managers, units
from nxuskit_cli.output import ServiceError, note
from nxuskit_cli.steps import Step, StopDaemon, running_daemon
from nxuskit_cli.table import footer


def carry_out(plan: list[Step], dry_run: bool) -> None:
    """Apply ``plan`` in order (stopping at the first failure), or print it."""
    if dry_run:
        print("# dry run: nothing is written or run")
        for step in plan:
            print(step.describe())
        return
    for step in plan:
        line = step.apply()
        if line:
            print(line)


def _require(manager: managers.Manager, action: str) -> None:
    reason = manager.unavailable()
    if reason:
        raise ServiceError(
            f"{reason}, so nxuskitd cannot be {action} as a {manager.name} service here. "
            "`nxuskit-cli daemon install --dry-run` prints the files and commands to use "
            f"where {manager.name} runs; without a service manager, clients start nxuskitd "
            "on demand"
        )


def _managed(manager: managers.Manager) -> bool:
    return manager.unavailable() is None and manager.installed()


def install(client: Client, dry_run: bool) -> None:
    """Install nxuskitd as a service of this platform's manager and enable it."""
    manager = managers.current(client.path())
    if dry_run:
        reason = manager.unavailable()
        if reason:
            note(f"{reason}: these steps would fail here")
    else:
        _require(manager, "installed")
    plan = manager.install(units.find_nxuskitd())
    if client.path() != manager.socket():
        note(
            f"the socket here (--socket or NXUSKIT_SOCKET) is {client.path()} but the "
            f"service listens on {manager.socket()}: unset NXUSKIT_SOCKET so that clients "
            "find it"
        )
    carry_out(plan, dry_run)
    if not dry_run:
        print(
            f"nxuskitd is installed as a {manager.name} service: it starts on the first "
            f"connection to {manager.socket()}. Check it with: nxuskit-cli daemon status"
        )


def uninstall(client: Client, dry_run: bool) -> None:
    """Stop, disable and remove the service (the stored credentials stay)."""
    manager = managers.current(client.path())
    if not dry_run:
        _require(manager, "uninstalled")
    carry_out(manager.uninstall(), dry_run)


def start(client: Client) -> None:
    """Start the service, or (not installed) the daemon in the background, as a client
    would start it (whatever NXUSKIT_AUTOSTART says)."""
    manager = managers.current(client.path())
    if _managed(manager):
        carry_out(manager.start(), dry_run=False)
        return
    client.autostart = True
    pid = client.daemon_status().pid
    print(
        f"nxuskitd (pid {pid}) serves {client.path()}; it is not a service: "
        "`nxuskit-cli daemon install` makes it one"
    )


def stop(client: Client) -> None:
    """Stop the service (until ``start`` or the next login) and any other daemon on the
    socket; without a service, the daemon on the socket. Then say what will start it again."""
    manager = managers.current(client.path())
    socket = client.path()
    managed = _managed(manager)
    # Who started it decides who starts it again: a service manager we do not drive here
    # (units found elsewhere) keeps listening after its daemon is stopped.
    info = None if managed else running_daemon(socket)
    plan: list[Step] = manager.stop() if managed else []
    plan.append(StopDaemon(socket, outside_manager=managed))
    carry_out(plan, dry_run=False)
    started_by = info.started_by if info is not None else None
    stopped = manager if managed else None
    for line in restart_notes(stopped, started_by, client.may_start()):
        print(footer("", line))


def restart_notes(
    stopped: managers.Manager | None, started_by: str | None, autostart: bool
) -> list[str]:
    """What will start nxuskitd again after ``daemon stop``: a service manager's socket
    that still listens, the next login, or any client's autostart (``autostart``: whether
    apps with this environment start it)."""
    listening = managers.BY_NAME.get(str(started_by)) if stopped is None else None
    if listening is not None:
        return [listening().still_listening() + "."]
    notes = [stopped.after_stop() + "."] if stopped is not None else []
    if autostart:
        notes.append(
            ("Until then, any" if notes else "Any") + " app using nxuskit (nxuskit-cli too) "
            "starts it again on its next request; NXUSKIT_AUTOSTART=0 in the app's "
            "environment prevents that."
        )
    else:
        notes.append(
            "Apps run with NXUSKIT_AUTOSTART=0, as here, do not start it again; other apps "
            "using nxuskit do, on their next request."
        )
    return notes


def logs(client: Client, follow: bool, lines: int) -> int:
    """Show the daemon's log (the journal, or the log file); the exit status."""
    manager = managers.current(client.path())
    argv = manager.logs(follow, lines) if _managed(manager) else None
    if argv:
        try:
            return subprocess.run(argv, check=False).returncode
        except FileNotFoundError:
            raise ServiceError(f"{argv[0]} is not installed; cannot show the journal") from None
    return _tail(paths.daemon_log_path(), follow, lines)


def _tail(path: str, follow: bool, lines: int) -> int:
    try:
        handle = open(path, "rb")  # noqa: SIM115 - kept open while following
    except FileNotFoundError:
        note(
            f"no log at {path} yet: a daemon started by a client (or launchd) writes it; "
            "one run in the foreground (nxuskitd) logs to its terminal"
        )
        return 0
    with handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 256 * 1024))
        tail = handle.read().decode("utf-8", "replace").splitlines()[-lines:] if lines else []
        for line in tail:
            print(line)
        if not follow:
            return 0
        try:
            while True:
                chunk = handle.read()
                if chunk:
                    print(chunk.decode("utf-8", "replace"), end="", flush=True)
                else:
                    time.sleep(0.5)
        except KeyboardInterrupt:
            return 0
