"""A real Secret Service for the tests: gnome-keyring-daemon on a private D-Bus bus.

The session fixture starts ``dbus-daemon`` with a configuration of its own (a socket in
a temporary directory, and no service directories, so that nothing is started on demand:
a killed keyring daemon stays dead until a test starts it again), then
``gnome-keyring-daemon --foreground --unlock --components=secrets`` with the password on
stdin and HOME / XDG_DATA_HOME in the same temporary directory, so the keyring file is
private to the test run. Tests inspect the Secret Service from outside nxuskit, with
secretstorage over their own D-Bus connection and with ``secret-tool``.

Where gnome-keyring cannot run these tests skip and say why; under ``CI=true`` that is a
failure instead, so a green CI proves they ran.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

PASSWORD = "nxuskit-test-password"
SECRETS_NAME = "org.freedesktop.secrets"
LOGIN = "/org/freedesktop/secrets/collection/login"

BUS_CONFIG = """<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path={socket}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
"""


def unavailable(reason: str) -> None:
    """Skip with ``reason``; under CI=true, fail: these tests must run there."""
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true and the Secret Service tests cannot run: {reason}")
    pytest.skip(f"no real Secret Service here: {reason}")


def wait_for(condition: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(Exception):
            if condition():
                return
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} within {timeout:g}s")
        time.sleep(0.05)


class SecretService:
    """A private D-Bus session bus with gnome-keyring-daemon on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.socket = root / "bus"
        self.address = f"unix:path={self.socket}"
        for name in ("home", "data", "run"):
            (root / name).mkdir(mode=0o700)
        config = root / "bus.conf"
        config.write_text(BUS_CONFIG.format(socket=self.socket))
        self.bus = subprocess.Popen(
            ["dbus-daemon", f"--config-file={config}", "--nofork", "--print-address=1"],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        assert self.bus.stdout is not None
        self.bus.stdout.readline()  # printed once the bus listens
        self.keyring: subprocess.Popen[bytes] | None = None

    @property
    def env(self) -> dict[str, str]:
        """What a process needs to reach this Secret Service."""
        return {"DBUS_SESSION_BUS_ADDRESS": self.address}

    # -- the keyring daemon ----------------------------------------------------------

    def start_keyring(self) -> None:
        """Start gnome-keyring-daemon, unlocked with PASSWORD, and wait until it serves."""
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.root / "home"),
            "XDG_DATA_HOME": str(self.root / "data"),
            "XDG_RUNTIME_DIR": str(self.root / "run"),
            **self.env,
        }
        self.keyring = subprocess.Popen(
            ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=env,
        )
        assert self.keyring.stdin is not None
        self.keyring.stdin.write(PASSWORD.encode())
        self.keyring.stdin.close()
        wait_for(self.serving, 15, "gnome-keyring-daemon did not serve an unlocked collection")

    def serving(self) -> bool:
        """True when the default collection exists and is unlocked."""
        with self.collection() as collection:
            return not collection.is_locked()

    def kill_keyring(self) -> None:
        """SIGKILL gnome-keyring-daemon (nothing restarts it: no D-Bus activation here)."""
        if self.keyring is not None:
            self.keyring.kill()
            self.keyring.wait(10)
            self.keyring = None

    def signal_keyring(self, signum: int) -> None:
        """Send ``signum`` (SIGSTOP: hang it; SIGCONT: let it go on)."""
        assert self.keyring is not None
        self.keyring.send_signal(signum)

    def close(self) -> None:
        """Stop everything and remove the directory."""
        if self.keyring is not None:
            self.keyring.send_signal(signal.SIGCONT)
        self.kill_keyring()
        self.bus.kill()
        self.bus.wait(10)
        assert self.bus.stdout is not None
        self.bus.stdout.close()
        shutil.rmtree(self.root, ignore_errors=True)

    # -- looking from outside nxuskit ------------------------------------------------

    @contextlib.contextmanager
    def collection(self) -> Iterator[Any]:
        """The default collection, over a fresh D-Bus connection of our own."""
        import secretstorage
        from jeepney.io.blocking import open_dbus_connection

        connection = open_dbus_connection(bus=self.address)
        try:
            yield secretstorage.get_default_collection(connection)
        finally:
            connection.close()

    def items(self, service: str = "nxuskit") -> dict[str, str]:
        """Every entry nxuskit would see: user name -> stored value."""
        with self.collection() as collection:
            return {
                item.get_attributes().get("username", ""): item.get_secret().decode()
                for item in collection.search_items({"service": service})
            }

    def wipe(self, service: str = "nxuskit") -> None:
        """Delete every entry of ``service``."""
        with self.collection() as collection:
            for item in collection.search_items({"service": service}):
                item.delete()

    def secret_tool(self, username: str, service: str = "nxuskit") -> str | None:
        """``secret-tool lookup service SERVICE username USERNAME`` (libsecret's own CLI)."""
        done = subprocess.run(
            ["secret-tool", "lookup", "service", service, "username", username],
            env={**os.environ, **self.env},
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
        return done.stdout if done.returncode == 0 else None

    def lock(self) -> None:
        """Lock the default collection, as a screen locker would."""
        with self.collection() as collection:
            collection.lock()
            assert collection.is_locked()

    def unlock(self) -> None:
        """Unlock the login collection with PASSWORD, without a prompt (gnome-keyring's
        own interface for that; its name says what its authors think of it)."""
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection
        from secretstorage.util import format_secret, open_session

        internal = DBusAddress(
            "/org/freedesktop/secrets",
            bus_name=SECRETS_NAME,
            interface="org.gnome.keyring.InternalUnsupportedGuiltRiddenInterface",
        )
        connection = open_dbus_connection(bus=self.address)
        try:
            session = open_session(connection)
            secret = format_secret(session, PASSWORD.encode(), "text/plain")
            message = new_method_call(internal, "UnlockWithMasterPassword", "o(oayays)",
                                      (LOGIN, secret))  # fmt: skip
            reply = connection.send_and_get_reply(message, timeout=10)
            assert reply.header.message_type.name == "method_return", reply.body
        finally:
            connection.close()
        wait_for(self.serving, 10, "the collection did not unlock")


def start_secret_service() -> SecretService:
    """A running private Secret Service, or a skip (a failure under CI) saying why not."""
    for tool in ("dbus-daemon", "gnome-keyring-daemon", "secret-tool", "dbus-monitor"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (make test installs gnome-keyring, dbus, "
                        "libsecret-tools)")  # fmt: skip
    try:
        import secretstorage  # noqa: F401
    except ImportError:
        unavailable("the secretstorage package is missing (pip install -e '.[dev]')")
    root = Path(tempfile.mkdtemp(prefix="nxk-ss-", dir="/tmp"))
    service = SecretService(root)
    try:
        service.start_keyring()
    except Exception as exc:
        service.close()
        unavailable(f"gnome-keyring-daemon did not start: {exc}")
    return service


@pytest.fixture(scope="session")
def secret_service_session() -> Iterator[SecretService]:
    """One private Secret Service for the whole run."""
    service = start_secret_service()
    try:
        yield service
    finally:
        service.close()


@pytest.fixture
def secret_service(secret_service_session: SecretService) -> Iterator[SecretService]:
    """The private Secret Service, running, unlocked and without nxuskit entries."""
    service = secret_service_session
    if service.keyring is None or service.keyring.poll() is not None:
        service.kill_keyring()
        service.start_keyring()
    if not service.serving():
        service.unlock()
    service.wipe()
    yield service
    if service.keyring is not None:
        service.signal_keyring(signal.SIGCONT)
