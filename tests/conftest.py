"""Shared fixtures: a private XDG sandbox, a real nxuskitd process, the real CLI.

Socket paths stay short (AF_UNIX allows ~104-108 bytes; pytest's tmp_path can be
longer), so sandboxes live in /tmp/nxk-XXXXXX.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from nxuskit import registry
from nxuskit.client import reset_default

PROVIDER_ENV_VARS = [spec.env for spec in registry.BUILTIN if spec.env] + [
    spec.host_env for spec in registry.BUILTIN if spec.host_env
]


@dataclass
class Sandbox:
    """A private home for one test: its own runtime, data, config and state dirs."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def runtime_dir(self) -> Path:
        return self.root / "run"

    @property
    def socket_path(self) -> Path:
        return self.runtime_dir / "nxuskit" / "nxuskitd.sock"

    @property
    def data_dir(self) -> Path:
        return self.root / "data" / "nxuskit"

    @property
    def store_file(self) -> Path:
        return self.data_dir / "credentials.json"

    @property
    def config_file(self) -> Path:
        return self.root / "config" / "nxuskit" / "config.toml"

    def write_config(self, text: str) -> Path:
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(text)
        return self.config_file


def _clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    env.pop("NXUSKIT_SOCKET", None)
    env.pop("NXUSKIT_STORE", None)
    # Never let a test daemon reach the developer's own keyring (tests that want a Secret
    # Service start a private one and pass its bus address explicitly).
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    env.pop("PYTHON_KEYRING_BACKEND", None)
    # The CLI fits its output to COLUMNS when set, else 80 (output to a pipe).
    env.pop("COLUMNS", None)
    env.update(
        XDG_RUNTIME_DIR=str(root / "run"),
        XDG_DATA_HOME=str(root / "data"),
        XDG_CONFIG_HOME=str(root / "config"),
        XDG_STATE_HOME=str(root / "state"),
        NXUSKIT_AUTOSTART="0",
        PYTHONDONTWRITEBYTECODE="1",
    )
    return env


@pytest.fixture
def sandbox(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sandbox]:
    """A fresh XDG sandbox; the test process's own environment points into it too."""
    root = Path(tempfile.mkdtemp(prefix="nxk-", dir="/tmp"))
    (root / "run").mkdir(mode=0o700)
    box = Sandbox(root, _clean_env(root))
    for name in PROVIDER_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("NXUSKIT_SOCKET", raising=False)
    for key in (
        "XDG_RUNTIME_DIR",
        "XDG_DATA_HOME",
        "XDG_CONFIG_HOME",
        "XDG_STATE_HOME",
        "NXUSKIT_AUTOSTART",
    ):
        monkeypatch.setenv(key, box.env[key])
    reset_default()
    try:
        yield box
    finally:
        reset_default()
        shutil.rmtree(root, ignore_errors=True)


def socket_answers(path: Path | str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.settimeout(1.0)
        probe.connect(str(path))
    except OSError:
        return False
    finally:
        probe.close()
    return True


@dataclass
class Daemon:
    """A running nxuskitd subprocess."""

    process: subprocess.Popen[bytes]
    socket_path: Path
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout)


def start_daemon(
    box: Sandbox,
    *args: str,
    wait: bool = True,
    env: dict[str, str] | None = None,
    name: str = "nxuskitd.log",
) -> Daemon:
    """Start ``python -m nxuskitd`` in ``box``; by default wait until it answers."""
    log_path = box.root / name
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "nxuskitd", "--store", "file", "--log-level", "debug", *args],
            env=env or box.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
        )
    daemon = Daemon(process, box.socket_path, log_path)
    if wait:
        deadline = time.monotonic() + 15
        while not socket_answers(box.socket_path):
            if process.poll() is not None:
                raise AssertionError(f"nxuskitd exited with {process.returncode}:\n{daemon.log()}")
            if time.monotonic() > deadline:
                daemon.stop(signal.SIGKILL)
                raise AssertionError(f"nxuskitd did not answer:\n{daemon.log()}")
            time.sleep(0.02)
    return daemon


@pytest.fixture
def daemon(sandbox: Sandbox) -> Iterator[Daemon]:
    """A real nxuskitd (file store) serving the sandbox's socket."""
    running = start_daemon(sandbox)
    try:
        yield running
    finally:
        running.stop()


# A process started with SIGINT ignored (a background `make test`, `trap "" INT`) passes
# that on to its children, and Python then installs no KeyboardInterrupt handler: Ctrl-C
# would do nothing. Tests that press Ctrl-C start the CLI with Python's handler restored.
_CLI_WITH_CTRL_C = (
    "import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "runpy.run_module('nxuskit_cli', run_name='__main__')"
)


def cli_command(*args: str, prelude: str = "") -> list[str]:
    """The argv of ``nxuskit-cli ARGS`` that Ctrl-C (SIGINT) reaches, whatever the test
    process ignores; ``prelude`` is Python run first."""
    return [sys.executable, "-c", prelude + _CLI_WITH_CTRL_C, *args]


def run_cli(
    box: Sandbox,
    *args: str,
    input: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> subprocess.CompletedProcess[str]:
    """Run ``nxuskit-cli ARGS`` in the sandbox and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "nxuskit_cli", *args],
        env={**box.env, **(env or {})},
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
