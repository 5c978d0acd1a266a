"""nxuskit-cli talks to nxuskitd through one Client per invocation (``ctx.obj``): a test
hands it a Client over an in-memory transport, and --socket reaches that Client without
passing through the environment."""

from __future__ import annotations

import os
from typing import Any

import pytest
from typer.testing import CliRunner

from nxuskit import answers, errors, protocol
from nxuskit.client import Client
from nxuskit_cli.app import app

pytestmark = pytest.mark.usefixtures("client_env")


class Recorder:
    """An in-memory daemon: records where it was asked to connect and what was sent."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, float]] = []
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def connect(self, path: str, timeout: float) -> Recorder:
        self.opened.append((path, timeout))
        return self

    def call(self, method: str, params: dict[str, Any]) -> Any:
        self.calls.append((method, params))
        if method == protocol.DAEMON_LOCK:
            return answers.Locked(True, 3).to_wire()
        if method == protocol.SET_CREDENTIAL:
            return answers.Stored(params["provider"], True, "file", True).to_wire()
        raise AssertionError(f"unexpected {method}")

    def close(self) -> None:
        pass


def test_commands_use_the_client_they_are_given() -> None:
    daemon = Recorder()
    client = Client("/nowhere/nxuskitd.sock", connect=daemon.connect)
    locked = CliRunner().invoke(app, ["daemon", "lock"], obj=client)
    assert locked.exit_code == 0, locked.output
    assert "nxuskitd forgot 3 cached entries" in locked.output
    stored = CliRunner().invoke(app, ["provider", "set", "groq", "-"], input="gsk-1\n", obj=client)
    assert stored.exit_code == 0, stored.output
    assert "replacing the one stored before" in stored.output
    assert [method for method, _ in daemon.calls] == [protocol.DAEMON_LOCK, protocol.SET_CREDENTIAL]
    assert {path for path, _ in daemon.opened} == {"/nowhere/nxuskitd.sock"}


def test_the_socket_option_reaches_the_client_not_the_environment(tmp_path: Any) -> None:
    socket = str(tmp_path / "elsewhere" / "nxuskitd.sock")
    result = CliRunner().invoke(app, ["--socket", socket, "daemon", "status"])
    assert isinstance(result.exception, errors.DaemonNotRunning)
    assert f"nxuskitd is not running at {socket}" in str(result.exception)
    assert "NXUSKIT_SOCKET" not in os.environ


def test_a_read_only_command_never_asks_to_start_the_daemon() -> None:
    class Absent(Recorder):
        def connect(self, path: str, timeout: float) -> Recorder:
            self.opened.append((path, timeout))
            raise errors.DaemonNotRunning(f"no nxuskitd is running at {path}")

    absent = Absent()
    client = Client("/nowhere/nxuskitd.sock", autostart=True, connect=absent.connect)
    result = CliRunner().invoke(app, ["daemon", "status"], obj=client)
    assert isinstance(result.exception, errors.DaemonNotRunning)
    assert client.autostart is False  # so the Client raised instead of starting one
    assert [timeout for _, timeout in absent.opened] == [2.0]  # daemon status waits 2 s
