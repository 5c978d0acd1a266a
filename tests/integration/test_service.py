"""nxuskitd as a service, with the real tools: systemd-analyze, systemd-socket-activate,
the CLI's install/start/stop/logs, and the wheel installed into a fresh venv.

No systemd PID 1 is needed: ``systemd-socket-activate`` passes a listening socket the way
systemd does (LISTEN_FDS), and a datagram socket bound here stands in for systemd's
NOTIFY_SOCKET. launchd is not exercised here (Linux only; see tests/unit).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from nxuskit_cli import units
from tests.conftest import Sandbox, run_cli, socket_answers
from tests.integration.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
ANALYZE = shutil.which("systemd-analyze")
ACTIVATE = shutil.which("systemd-socket-activate") or (
    "/usr/bin/systemd-socket-activate"
    if os.access("/usr/bin/systemd-socket-activate", os.X_OK)
    else None
)
needs_analyze = pytest.mark.skipif(
    ANALYZE is None, reason="systemd-analyze is missing (apt-get install systemd)"
)
needs_activate = pytest.mark.skipif(
    ACTIVATE is None, reason="systemd-socket-activate is missing (apt-get install systemd)"
)


def verify_units(directory: Path, runtime: Path) -> str:
    """Everything ``systemd-analyze --user verify`` prints about the units in ``directory``."""
    done = subprocess.run(
        [ANALYZE, "--user", "verify", "--man=no",  # type: ignore[list-item]
         str(directory / "nxuskitd.socket"), str(directory / "nxuskitd.service")],
        env={**os.environ, "XDG_RUNTIME_DIR": str(runtime), "SYSTEMD_LOG_COLOR": "0"},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}".strip()


@needs_analyze
@pytest.mark.parametrize("where", ["installed", "odd path"])
def test_rendered_units_pass_systemd_analyze_without_a_warning(sandbox: Sandbox, where):
    nxuskitd = units.find_nxuskitd()
    if where == "odd path":  # quoting: a space, a % and a $ in the program's path
        odd = sandbox.root / "my venv%$x" / "nxuskitd"
        odd.parent.mkdir()
        odd.symlink_to(nxuskitd)
        nxuskitd = str(odd)
    unit_dir = sandbox.root / "units"
    unit_dir.mkdir()
    for name, text in units.render_systemd(nxuskitd).items():
        (unit_dir / name).write_text(text)
    # It exits 0 on unknown keys and the like: any line it prints is a failure.
    assert verify_units(unit_dir, sandbox.runtime_dir) == "exit 0"


@needs_analyze
def test_systemd_analyze_would_catch_a_bad_unit(sandbox: Sandbox):
    unit_dir = sandbox.root / "units"
    unit_dir.mkdir()
    for name, text in units.render_systemd(units.find_nxuskitd()).items():
        (unit_dir / name).write_text(text.replace("LockPersonality=", "LockPersonalty="))
    assert "Unknown key" in verify_units(unit_dir, sandbox.runtime_dir)


class NotifyListener:
    """A datagram socket standing in for systemd's NOTIFY_SOCKET."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        self.messages: list[str] = []

    def wait_for(self, line: str, timeout: float = 15.0) -> bool:
        """Read datagrams until one has ``line``; whether it came within ``timeout``."""
        self.sock.settimeout(timeout)
        while not any(line in message.splitlines() for message in self.messages):
            try:
                self.messages.append(self.sock.recv(4096).decode())
            except TimeoutError:
                return False
        return True


@pytest.fixture
def notify_socket(sandbox: Sandbox) -> Iterator[NotifyListener]:
    listener = NotifyListener(sandbox.root / "notify")
    try:
        yield listener
    finally:
        listener.sock.close()


@needs_activate
def test_socket_activation_end_to_end(sandbox: Sandbox, notify_socket: NotifyListener):
    socket_dir = sandbox.socket_path.parent
    socket_dir.mkdir(mode=0o700)  # as DirectoryMode=0700 would
    passed = {
        key: value
        for key, value in sandbox.env.items()
        if key.startswith(("XDG_", "NXUSKIT_", "PYTHON"))
    }
    passed.update(NOTIFY_SOCKET=str(notify_socket.path), WATCHDOG_USEC="200000")
    log_path = sandbox.root / "activated.log"
    with open(log_path, "wb") as log:
        activator = subprocess.Popen(
            [ACTIVATE, "-l", str(sandbox.socket_path), "--fdname=nxuskitd",  # type: ignore[list-item]
             *(f"-E{key}={value}" for key, value in passed.items()),
             sys.executable, "-m", "nxuskitd", "--store", "file", "--log-level", "debug"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        assert wait_until(sandbox.socket_path.exists), log_path.read_text()
        # The first connection makes systemd-socket-activate exec nxuskitd (same pid).
        status = run_cli(sandbox, "daemon", "status", "--json")
        assert status.returncode == 0, status.stderr + log_path.read_text()
        assert '"started_by": "systemd"' in status.stdout
        assert f'"socket": "{sandbox.socket_path}"' in status.stdout
        assert f'"pid": {activator.pid}' in status.stdout
        assert notify_socket.wait_for("READY=1"), notify_socket.messages
        assert notify_socket.wait_for("WATCHDOG=1"), notify_socket.messages

        stored = run_cli(sandbox, "provider", "set", "groq", input="gsk-activated\n")
        assert stored.returncode == 0, stored.stderr
        resolved = run_cli(sandbox, "provider", "status", "groq", "--json")
        assert '"source": "store"' in resolved.stdout

        activator.send_signal(signal.SIGTERM)
        assert activator.wait(15) == 0, log_path.read_text()
        assert notify_socket.wait_for("STOPPING=1"), notify_socket.messages
        ready = next(i for i, m in enumerate(notify_socket.messages) if "READY=1" in m)
        stopping = next(i for i, m in enumerate(notify_socket.messages) if "STOPPING=1" in m)
        assert ready < stopping
        # systemd owns the path: the daemon neither removed nor replaced it.
        assert sandbox.socket_path.is_socket()
        log_text = log_path.read_text()
        assert "Traceback" not in log_text
        assert "gsk-activated" not in log_text
    finally:
        if activator.poll() is None:
            activator.kill()
            activator.wait(10)


def test_install_dry_run_prints_units_for_this_installation(sandbox: Sandbox):
    done = run_cli(sandbox, "daemon", "install", "--dry-run")
    assert done.returncode == 0, done.stderr
    unit_dir = Path(sandbox.env["XDG_CONFIG_HOME"]) / "systemd" / "user"
    assert f"# write {unit_dir}/nxuskitd.socket (mode 644):" in done.stdout
    assert f"ExecStart={units.find_nxuskitd()}\n" in done.stdout
    assert "ListenStream=%t/nxuskit/nxuskitd.sock" in done.stdout
    assert "# run: systemctl --user daemon-reload" in done.stdout
    assert "# run: systemctl --user enable --now nxuskitd.socket" in done.stdout
    assert not unit_dir.exists(), "a dry run writes nothing"


def test_install_without_systemd_fails_clearly(sandbox: Sandbox):
    done = run_cli(sandbox, "daemon", "install", env={"PATH": str(sandbox.root)})
    assert done.returncode == 12
    assert done.stderr.count("\n") == 1, done.stderr
    assert "systemctl is not installed" in done.stderr
    assert "nxuskit-cli daemon install --dry-run" in done.stderr
    assert not (Path(sandbox.env["XDG_CONFIG_HOME"]) / "systemd").exists()


def test_start_stop_and_logs_without_a_service(sandbox: Sandbox):
    no_systemctl = {"PATH": str(sandbox.root)}  # never touch a real user manager
    started = run_cli(sandbox, "daemon", "start", env=no_systemctl)
    assert started.returncode == 0, started.stderr
    assert "it is not a service" in started.stdout
    assert socket_answers(sandbox.socket_path)
    status = run_cli(sandbox, "daemon", "status", "--json")
    assert '"started_by": "autostart"' in status.stdout

    logs = run_cli(sandbox, "daemon", "logs", "-n", "5", env=no_systemctl)
    assert logs.returncode == 0, logs.stderr
    assert "nxuskitd: INFO: serving" in logs.stdout

    stopped = run_cli(sandbox, "daemon", "stop", env=no_systemctl)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped nxuskitd (pid" in stopped.stdout
    assert not sandbox.socket_path.exists()
    again = run_cli(sandbox, "daemon", "stop", env=no_systemctl)
    assert again.returncode == 0
    assert "no nxuskitd answers" in again.stdout


@pytest.mark.parametrize(("autostart", "said"), [
    ("1", "Any app using nxuskit (nxuskit-cli too) starts it again on its next request; "
          "NXUSKIT_AUTOSTART=0 in the app's environment prevents that."),
    ("0", "Apps run with NXUSKIT_AUTOSTART=0, as here, do not start it again; other apps "
          "using nxuskit do, on their next request."),
])  # fmt: skip
def test_daemon_stop_says_that_clients_start_it_again(
    sandbox: Sandbox, spawn, autostart: str, said: str
):
    spawn()
    env = {"PATH": str(sandbox.root), "NXUSKIT_AUTOSTART": autostart}  # no systemctl here
    stopped = run_cli(sandbox, "daemon", "stop", env=env)
    assert stopped.returncode == 0, stopped.stderr
    assert "stopped nxuskitd (pid" in stopped.stdout
    assert said in " ".join(stopped.stdout.split())


@needs_activate
def test_daemon_stop_says_that_systemds_socket_starts_it_again(sandbox: Sandbox):
    """A daemon that systemd's socket started, where `daemon stop` cannot drive systemd
    itself (units it does not know, or no systemctl): stopping the daemon leaves the
    socket listening, and the next connection starts it again. The command says so."""
    sandbox.socket_path.parent.mkdir(mode=0o700)
    passed = [f"-E{key}={value}" for key, value in sandbox.env.items()
              if key.startswith(("XDG_", "NXUSKIT_", "PYTHON"))]  # fmt: skip
    activator = subprocess.Popen(
        [ACTIVATE, "-l", str(sandbox.socket_path), "--fdname=nxuskitd", *passed,  # type: ignore[list-item]
         sys.executable, "-m", "nxuskitd", "--store", "file"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        assert wait_until(sandbox.socket_path.exists)
        stopped = run_cli(sandbox, "daemon", "stop", env={"PATH": str(sandbox.root)})
        assert stopped.returncode == 0, stopped.stderr
        assert f"stopped nxuskitd (pid {activator.pid}, started by systemd)" in stopped.stdout
        assert (
            "systemd's nxuskitd.socket will start it again on the next connection; "
            "`systemctl --user stop nxuskitd.socket` to prevent that."
        ) in " ".join(stopped.stdout.split())
        assert "NXUSKIT_AUTOSTART" not in stopped.stdout  # the socket answers first
        assert activator.wait(15) == 0
    finally:
        if activator.poll() is None:
            activator.kill()
            activator.wait(10)


def test_install_stops_an_autostarted_daemon_first(sandbox: Sandbox):
    """Only the plan's first steps run here (no systemd): writing units, stopping the
    daemon that would otherwise keep the socket from systemd."""
    from nxuskit_cli.steps import StopDaemon

    assert run_cli(sandbox, "daemon", "start", env={"PATH": str(sandbox.root)}).returncode == 0
    assert StopDaemon(str(sandbox.socket_path)).apply() is not None
    assert not socket_answers(sandbox.socket_path)


@pytest.mark.timeout(900)
def test_wheel_builds_passes_twine_and_installs_into_a_fresh_venv(tmp_path, sandbox: Sandbox):
    """The slow one: python -m build, twine check, pip install into a new venv (pip's
    cache is reused; only the package index is reached), then the installed programs."""
    env = {k: v for k, v in os.environ.items() if k not in ("PIP_NO_CACHE_DIR", "PYTHONPATH")}
    dist = tmp_path / "dist"

    def run(*argv: str | Path, **extra: str) -> str:
        done = subprocess.run(
            [str(arg) for arg in argv], env={**env, **extra}, capture_output=True,
            text=True, timeout=600, check=False,
        )  # fmt: skip
        assert done.returncode == 0, f"{argv}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    run(sys.executable, "-m", "build", "--outdir", dist, ROOT)
    wheels, sdists = list(dist.glob("*.whl")), list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1, list(dist.iterdir())
    assert len(sdists) == 1, list(dist.iterdir())
    run(sys.executable, "-m", "twine", "check", "--strict", *wheels, *sdists)
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = set(wheel.namelist())
    for unit in ("nxuskitd.socket", "nxuskitd.service", "com.nxuskit.nxuskitd.plist"):
        assert f"nxuskitd/units/{unit}" in names

    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv)
    # the daemon and the CLI come with the extras (the base install is the client alone)
    run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", f"{wheels[0]}[all]")
    assert run(venv / "bin" / "nxuskitd", "--version").strip() == "nxuskitd 0.1.0"
    out = run(venv / "bin" / "nxuskit-cli", "daemon", "install", "--dry-run", **sandbox.env)
    assert f"ExecStart={venv}/bin/nxuskitd\n" in out
    assert str(ROOT / ".venv") not in out
