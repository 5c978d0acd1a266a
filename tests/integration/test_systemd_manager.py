"""The installed units under a real systemd user manager (``systemd --user``).

``systemd-analyze verify`` checks the units' syntax; only a running manager shows whether
the sandbox they ask for actually lets nxuskitd start (a ReadWritePaths= path that does
not exist fails the start with 226/NAMESPACE, for one). No systemd PID 1 is needed: as
root, a private mount namespace gets its own /run/systemd/system (so the manager believes
the system runs systemd), a tmpfs /run/user/<uid> and a tmpfs /home, and a user manager
runs there with a clean environment. Everything happens inside that namespace; the
manager is told to exit at the end, which stops all it started.

Skipped where such a manager cannot run (not root, no mount namespaces, no systemd);
once it runs, any failure is a real one.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxuskit_cli import units

SYSTEMD = next(
    (path for path in ("/usr/lib/systemd/systemd", "/lib/systemd/systemd") if os.path.exists(path)),
    None,
)
UID = os.getuid()
HOME = "/home/nxk"
RUNTIME = f"/run/user/{UID}"
SOCKET = f"{RUNTIME}/nxuskit/nxuskitd.sock"
ROOT = Path(__file__).resolve().parents[2]


def _why_not() -> str | None:
    if os.geteuid() != 0:
        return "needs root (mount namespace with tmpfs mounts)"
    if SYSTEMD is None or not shutil.which("unshare") or not shutil.which("nsenter"):
        return "needs systemd, unshare and nsenter (apt-get install systemd util-linux)"
    for path in (ROOT, Path(sys.executable)):
        if str(path).startswith(("/tmp/", "/var/tmp/")):
            return f"{path} is under /tmp, which the service's PrivateTmp= hides"
    return None


pytestmark = pytest.mark.skipif(_why_not() is not None, reason=str(_why_not()))

_BOOT = f"""
set -e
mkdir -p /run/systemd /run/user
mount -t tmpfs -o mode=755 tmpfs /run/systemd
mkdir /run/systemd/system
mount -t tmpfs -o mode=755 tmpfs /run/user
mkdir -m 700 {RUNTIME}
mount -t tmpfs -o mode=755 tmpfs /home
mkdir -m 700 {HOME}
exec env -i HOME={HOME} USER=root LOGNAME=root PATH=/usr/sbin:/usr/bin:/sbin:/bin \
    XDG_RUNTIME_DIR={RUNTIME} {SYSTEMD} --user
"""


class UserManager:
    """A ``systemd --user`` in a private mount namespace; ``run`` executes inside it."""

    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process

    def run(self, *argv: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        env = [f"HOME={HOME}", f"XDG_RUNTIME_DIR={RUNTIME}", "PATH=/usr/bin:/bin",
               "NXUSKIT_AUTOSTART=0", "PYTHONDONTWRITEBYTECODE=1"]  # fmt: skip
        return subprocess.run(
            ["nsenter", "-m", "-t", str(self.process.pid), "env", "-i", *env, *argv],
            input=input, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip

    def cli(self, *args: str, input: str | None = None) -> subprocess.CompletedProcess[str]:
        return self.run(sys.executable, "-m", "nxuskit_cli", *args, input=input)

    def systemctl(self, *args: str) -> str:
        return self.run("systemctl", "--user", *args).stdout.strip()

    def show(self, unit: str, *properties: str) -> dict[str, str]:
        out = self.systemctl("show", unit, *(f"-p{name}" for name in properties))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def _kill_leftover_daemons() -> None:
    """SIGKILL any nxuskitd whose home is this test's (a client may have started one)."""
    marker = f"HOME={HOME}".encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
            environ = Path(f"/proc/{entry}/environ").read_bytes()
        except OSError:
            continue
        if b"nxuskitd" in cmdline and marker in environ.split(b"\0"):
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(entry), signal.SIGKILL)


@pytest.fixture
def manager() -> Iterator[UserManager]:
    process = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "sh", "-c", _BOOT],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        start_new_session=True,
    )  # fmt: skip
    running = UserManager(process)
    try:
        deadline = time.monotonic() + 20
        state = ""
        while state not in ("running", "degraded"):
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.poll() is not None else ""
                pytest.skip(f"no systemd user manager could run here ({state!r}) {error}")
            time.sleep(0.2)
            state = running.systemctl("is-system-running")
        yield running
    finally:
        with contextlib.suppress(Exception):
            running.systemctl("exit")
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)
        finally:
            if process.stderr is not None:
                process.stderr.close()
            _kill_leftover_daemons()


@pytest.mark.timeout(300)
def test_installed_units_run_under_a_real_user_manager(manager: UserManager):
    installed = manager.cli("daemon", "install")
    assert installed.returncode == 0, installed.stdout + installed.stderr
    unit_dir = f"{HOME}/.config/systemd/user"
    assert f"wrote {unit_dir}/nxuskitd.service" in installed.stdout
    assert manager.systemctl("is-enabled", "nxuskitd.socket") == "enabled"
    # The file store, so that the test does not depend on a Secret Service here.
    manager.run("sh", "-c", f"mkdir {unit_dir}/nxuskitd.service.d && printf "
                "'[Service]\\nEnvironment=NXUSKIT_STORE=file\\n' "
                f"> {unit_dir}/nxuskitd.service.d/store.conf")  # fmt: skip
    manager.systemctl("daemon-reload")

    def diagnose() -> str:
        return manager.systemctl("status", "--no-pager", "nxuskitd.socket", "nxuskitd.service")

    # The first connection starts the service; Type=notify: it is active once READY=1.
    status = manager.cli("daemon", "status", "--json")
    assert status.returncode == 0, status.stderr + diagnose()
    assert '"started_by": "systemd"' in status.stdout
    assert f'"socket": "{SOCKET}"' in status.stdout
    service = manager.show("nxuskitd.service", "ActiveState", "StatusText", "NRestarts")
    assert service["ActiveState"] == "active", diagnose()
    assert service["StatusText"] == f"serving unix:{SOCKET}"
    assert service["NRestarts"] == "0"
    assert manager.show("nxuskitd.service", "ExecStart")["ExecStart"].startswith(
        f"{{ path={units.find_nxuskitd()} "
    )

    # The sandbox leaves the data directory writable (ProtectSystem=strict otherwise).
    stored = manager.cli("provider", "set", "groq", input="gsk-under-systemd\n")
    assert stored.returncode == 0, stored.stderr + diagnose()
    resolved = manager.cli("provider", "status", "groq", "--json")
    assert '"source": "store"' in resolved.stdout, resolved.stderr
    store_file = f"{HOME}/.local/share/nxuskit/credentials.json"
    assert manager.run("test", "-f", store_file).returncode == 0

    # A stop is clean (exit 0) and leaves the socket with systemd, which still listens.
    manager.systemctl("stop", "nxuskitd.service")
    stopped = manager.show("nxuskitd.service", "Result", "ExecMainStatus", "ActiveState")
    assert stopped == {"Result": "success", "ExecMainStatus": "0", "ActiveState": "inactive"}
    assert manager.run("test", "-S", SOCKET).returncode == 0
    assert manager.systemctl("is-active", "nxuskitd.socket") == "active"

    # daemon stop / start drive both units; stopping the socket removes its file.
    stopped = manager.cli("daemon", "stop")
    assert stopped.returncode == 0, stopped.stderr
    assert "systemd starts it again at your next login" in " ".join(stopped.stdout.split())
    assert manager.systemctl("is-active", "nxuskitd.socket") == "inactive"
    assert manager.run("test", "-e", SOCKET).returncode != 0
    # Meanwhile an app's client starts its own daemon on the path (read-only CLI commands
    # never do); `daemon start` stops it first, or the service would find the lock taken.
    probe = "import nxuskit; print(nxuskit.daemon_status()['started_by'])"
    listed = manager.run("env", "NXUSKIT_AUTOSTART=1", sys.executable, "-c", probe)
    assert listed.stdout.strip() == "autostart", listed.stderr
    started = manager.cli("daemon", "start")
    assert started.returncode == 0, started.stderr
    assert "stopped nxuskitd (pid" in started.stdout
    assert manager.systemctl("is-active", "nxuskitd.service") == "active", diagnose()
    assert '"started_by": "systemd"' in manager.cli("daemon", "status", "--json").stdout

    removed = manager.cli("daemon", "uninstall")
    assert removed.returncode == 0, removed.stderr
    assert manager.run("test", "-e", f"{unit_dir}/nxuskitd.socket").returncode != 0
    assert manager.systemctl("is-active", "nxuskitd.service") == "inactive"
