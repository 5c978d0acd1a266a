"""nxuskit.aio raises what the blocking client raises, checks whom it talks to before
sending anything, and resends only what is safe to run twice."""

from __future__ import annotations

import json
import os
import socket
import threading
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
import nxuskit.aio
from nxuskit import protocol
from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.test_trust import (  # noqa: F401 - fixtures
    _need_nobody,
    _squat,
    fake_daemon,
    shared_tmp,
)
from tests.integration.wire import connect

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _blocking_error(call: Callable[[nxuskit.Client], object]) -> nxuskit.NxuskitError:
    client = nxuskit.Client(autostart=False)
    try:
        call(client)
    except nxuskit.NxuskitError as error:
        return error
    finally:
        client.close()
    raise AssertionError("the blocking client raised nothing")


async def _async_error(
    call: Callable[[nxuskit.aio.Client], Awaitable[object]],
) -> nxuskit.NxuskitError:
    async with nxuskit.aio.Client(autostart=False) as client:
        try:
            await call(client)
        except nxuskit.NxuskitError as error:
            return error
    raise AssertionError("nxuskit.aio raised nothing")


CASES: dict[str, tuple[type[nxuskit.NxuskitError], str, dict[str, Any]]] = {
    # name: (class, method, params) sent through each client's call()
    "unknown method": (nxuskit.ProtocolError, "no.such_method", {}),
    "mistyped param": (nxuskit.InvalidArgument, protocol.SET_CREDENTIAL, {"provider": 1}),
    "nothing stored": (nxuskit.NotAuthenticated, protocol.RESOLVE, {"provider": "groq"}),
    "unknown provider": (nxuskit.UnknownProvider, protocol.RESOLVE, {"provider": "nope"}),
}


@pytest.mark.parametrize("case", CASES)
async def test_the_daemons_errors_map_to_the_same_classes(daemon: Daemon, case: str) -> None:
    cls, method, params = CASES[case]
    blocking = _blocking_error(lambda client: client.call(method, params))
    error = await _async_error(lambda client: client.call(method, params))
    assert type(error) is type(blocking) is cls
    assert str(error) == str(blocking)


OWN_CHECKS = [
    ("auth_resolve", ("no-such",)),
    ("auth_status", ("gpt\x1f",)),
    ("auth_set_credential", ("openai", " ")),
    ("auth_set_credential", ("ollama", "sk-for-a-local-server")),
    ("auth_report_invalid", ("openai",)),
]


@pytest.mark.parametrize(("method", "args"), OWN_CHECKS)
async def test_the_clients_own_checks_raise_the_same_errors(
    daemon: Daemon, method: str, args: tuple[str, ...]
) -> None:
    blocking = _blocking_error(lambda client: getattr(client, method)(*args))
    error = await _async_error(lambda client: getattr(client, method)(*args))
    assert (type(error), str(error)) == (type(blocking), str(blocking))


async def test_no_daemon_says_how_to_start_one_like_the_blocking_client(sandbox: Sandbox) -> None:
    blocking = _blocking_error(lambda client: client.auth_resolve("openai"))
    error = await _async_error(lambda client: client.auth_resolve("openai"))
    assert (type(error), str(error)) == (type(blocking), str(blocking))
    assert isinstance(error, nxuskit.DaemonUnavailable)
    with pytest.raises(nxuskit.DaemonUnavailable, match="NXUSKIT_AUTOSTART=0"):
        await nxuskit.aio.Client().auth_resolve("openai")  # the default follows the env


async def test_a_socket_directory_open_to_others_is_refused_before_connecting(
    sandbox: Sandbox,
) -> None:
    sandbox.socket_path.parent.mkdir(mode=0o700)
    sandbox.socket_path.parent.chmod(0o755)
    error = await _async_error(lambda client: client.auth_resolve("openai"))
    blocking = _blocking_error(lambda client: client.auth_resolve("openai"))
    assert isinstance(error, nxuskit.PermissionDenied)
    assert str(error) == str(blocking)
    assert "chmod 700" in str(error)


async def test_a_full_daemon_says_so(spawn: Callable[..., Daemon], sandbox: Sandbox) -> None:
    spawn("--max-connections", "1")
    with connect(sandbox.socket_path) as held:
        held.request(protocol.HELLO, {})  # the daemon's one connection
        error = await _async_error(lambda client: client.auth_resolve("openai"))
    assert isinstance(error, nxuskit.DaemonBusy), error
    assert "--max-connections" in str(error)


@pytest.mark.root
async def test_a_daemon_of_another_user_gets_nothing(
    sandbox: Sandbox,
    shared_tmp: Path,  # noqa: F811 - the fixture imported above
    fake_daemon: Callable[[Path], Path],  # noqa: F811
) -> None:
    """Our own directory, but uid 65534 serves the socket: refused before anything is sent."""
    _need_nobody()
    attacker_dir = shared_tmp / "attacker"
    _squat(attacker_dir)
    record = fake_daemon(attacker_dir / "s.sock")
    sandbox.socket_path.parent.mkdir(mode=0o700, parents=True)
    os.rename(attacker_dir / "s.sock", sandbox.socket_path)
    assert socket_answers(sandbox.socket_path)
    secret = "sk-aio-victim-key-must-stay-home"
    for call in (
        lambda client: client.auth_set_credential("openai", secret),
        lambda client: client.auth_resolve("openai"),
    ):
        error = await _async_error(call)
        assert isinstance(error, nxuskit.PermissionDenied), error
        assert "served by uid 65534" in str(error)
        assert "nothing was sent" in str(error)
    assert not record.exists() or record.read_bytes() == b""


# -- a scripted daemon of our own uid: what the real one does only by accident ------------


class ScriptedDaemon:
    """Listens at ``path``; answers hello with ``hello``, and closes the connection on any
    other request, recording its method (as a daemon that dies mid-request would)."""

    def __init__(self, path: Path, hello: dict[str, Any]) -> None:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.hello = hello
        self.methods: list[str] = []
        self.server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.server.bind(str(path))
        self.server.listen(8)
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            with conn, conn.makefile("rb") as lines:
                for line in lines:
                    request = json.loads(line)
                    if request["method"] != protocol.HELLO:
                        self.methods.append(request["method"])
                        break
                    answer = {"jsonrpc": "2.0", "id": request["id"], "result": self.hello}
                    conn.sendall(json.dumps(answer).encode() + b"\n")

    def close(self) -> None:
        self.server.shutdown(socket.SHUT_RDWR)
        self.server.close()
        self.thread.join(10)


@pytest.fixture
def scripted(sandbox: Sandbox) -> Iterator[Callable[[dict[str, Any]], ScriptedDaemon]]:
    started: list[ScriptedDaemon] = []

    def start(hello: dict[str, Any]) -> ScriptedDaemon:
        started.append(ScriptedDaemon(sandbox.socket_path, hello))
        return started[-1]

    try:
        yield start
    finally:
        for daemon in started:
            daemon.close()


HELLO = {"protocol": protocol.PROTOCOL_VERSION, "version": "0", "pid": os.getpid()}


async def test_a_lost_answer_is_asked_again_only_when_that_is_safe(
    scripted: Callable[[dict[str, Any]], ScriptedDaemon],
) -> None:
    daemon = scripted(HELLO)
    report = await _async_error(lambda client: client.auth_report_invalid("openai", "sk-old"))
    resolve = await _async_error(lambda client: client.auth_resolve("openai"))
    assert daemon.methods == [protocol.REPORT_INVALID, protocol.RESOLVE, protocol.RESOLVE]
    for error, method in ((report, protocol.REPORT_INVALID), (resolve, protocol.RESOLVE)):
        assert isinstance(error, nxuskit.DaemonUnavailable)
        assert f"closed the connection before answering {method}" in str(error)


async def test_an_older_daemon_is_a_version_mismatch(
    scripted: Callable[[dict[str, Any]], ScriptedDaemon],
) -> None:
    scripted({**HELLO, "protocol": 0})
    error = await _async_error(lambda client: client.auth_resolve("openai"))
    assert isinstance(error, nxuskit.VersionMismatch)
    assert "restart nxuskitd" in str(error)
