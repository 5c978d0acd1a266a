"""The daemon's life against real processes: one per socket, stale sockets, signals,
autostart by the client, and the client's connection across restarts and forks."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable

import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import default_client, reset_default
from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.conftest import nxuskitd_pids, wait_until
from tests.integration.wire import connect, error_kind


def _hello_pid(box: Sandbox) -> int:
    with connect(box.socket_path) as wire:
        return int(wire.request(protocol.HELLO, {})["result"]["pid"])


# -- one daemon per socket ---------------------------------------------------------------


@pytest.mark.timeout(30)
def test_second_daemon_on_the_same_socket_exits_and_the_first_keeps_serving(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    first = spawn()
    identity = os.stat(sandbox.socket_path).st_ino
    second = spawn(wait=False, name="second.log")
    assert second.process.wait(15) != 0
    message = second.log()
    assert f"pid {first.process.pid}" in message
    assert "already serves" in message
    assert "Traceback" not in message
    assert first.process.poll() is None
    assert os.stat(sandbox.socket_path).st_ino == identity  # not unlinked, not rebound
    assert _hello_pid(sandbox) == first.process.pid


@pytest.mark.timeout(30)
def test_stale_socket_after_kill9_is_replaced(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    first = spawn()
    nxuskit.auth_set_credential("openai", "sk-survives-a-crash")
    first.stop(signal.SIGKILL)
    assert os.path.exists(sandbox.socket_path)  # the crash left its socket file behind
    assert not socket_answers(sandbox.socket_path)
    second = spawn(name="second.log")
    assert _hello_pid(sandbox) == second.process.pid
    reset_default()
    assert nxuskit.auth_resolve("openai").secret == "sk-survives-a-crash"
    lock = (sandbox.socket_path.parent / "nxuskitd.sock.lock").read_text().strip()
    assert lock == str(second.process.pid)


@pytest.mark.timeout(30)
def test_a_live_socket_is_never_taken_over(sandbox: Sandbox, spawn: Callable[..., Daemon]) -> None:
    """Something else listens on the path (no nxuskitd lock): the daemon must leave it."""
    sandbox.socket_path.parent.mkdir(mode=0o700)
    squatter = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        squatter.bind(str(sandbox.socket_path))
        squatter.listen(8)
        identity = os.stat(sandbox.socket_path).st_ino
        daemon = spawn(wait=False)
        assert daemon.process.wait(15) != 0
        assert "already answers" in daemon.log()
        assert os.stat(sandbox.socket_path).st_ino == identity
        assert socket_answers(sandbox.socket_path)
    finally:
        squatter.close()


@pytest.mark.timeout(30)
def test_a_file_that_is_not_a_socket_is_left_alone(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    sandbox.socket_path.parent.mkdir(mode=0o700)
    sandbox.socket_path.write_text("precious")
    daemon = spawn(wait=False)
    assert daemon.process.wait(15) != 0
    assert "not a socket" in daemon.log()
    assert sandbox.socket_path.read_text() == "precious"


# -- signals -----------------------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_signal_stops_the_daemon_cleanly(
    sandbox: Sandbox, spawn: Callable[..., Daemon], signum: int
) -> None:
    daemon = spawn()
    with connect(sandbox.socket_path) as idle:
        assert idle.request(protocol.HELLO, {})["result"]["pid"] == daemon.process.pid
        started = time.monotonic()
        daemon.process.send_signal(signum)
        assert idle.closed_by_peer(timeout=6), "a connected idle client never saw EOF"
        assert daemon.process.wait(6) == 0, daemon.log()
        assert time.monotonic() - started < 6
    assert not os.path.lexists(sandbox.socket_path), "the daemon left its socket behind"
    assert "Traceback" not in daemon.log()
    # The lock was released: a new daemon starts at once on the same path.
    spawn(name="next.log")


@pytest.mark.timeout(40)
def test_sigterm_as_soon_as_the_socket_answers_is_still_a_clean_stop(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """The socket accepts connections (the kernel queues them) a moment before the daemon
    handles signals; a SIGTERM in that moment must still be a clean shutdown."""
    for attempt in range(5):
        daemon = spawn(wait=False, name=f"attempt{attempt}.log")
        assert wait_until(lambda: socket_answers(sandbox.socket_path), step=0.0005)
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(10) == 0, f"attempt {attempt}:\n{daemon.log()}"
        assert not os.path.lexists(sandbox.socket_path), f"attempt {attempt} left its socket"


def _wait_channels(pid: int) -> list[str]:
    """Where each thread of ``pid`` sleeps in the kernel ("0" while it runs)."""
    channels = []
    for task in os.listdir(f"/proc/{pid}/task"):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/task/{task}/wchan") as handle:
            channels.append(handle.read().strip())
    return channels


def _wait_for_fifo_reader(pid: int) -> None:
    """Return once a thread of ``pid`` is blocked opening a FIFO that has no writer."""
    seen: set[str] = set()

    def blocked() -> bool:
        channels = _wait_channels(pid)
        seen.update(channels)
        return "wait_for_partner" in channels

    if not wait_until(blocked, timeout=10):
        if seen <= {"", "0"}:
            pytest.skip("this kernel does not show where threads wait (/proc/<pid>/task/*/wchan)")
        raise AssertionError(f"the resolve never reached the store; threads wait in {seen}")


@pytest.mark.timeout(40)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_request_in_flight_at_shutdown_gets_its_answer(
    sandbox: Sandbox, spawn: Callable[..., Daemon], signum: int
) -> None:
    """A resolve blocked in the store (credentials.json is a FIFO nobody writes yet) is
    in flight when the signal arrives; the daemon stops accepting, still answers it once
    the store returns, and then exits 0."""
    sandbox.data_dir.mkdir(parents=True, mode=0o700)
    os.mkfifo(sandbox.store_file, 0o600)
    daemon = spawn("--store-timeout", "30")
    with connect(sandbox.socket_path, timeout=20) as client:
        client.send_json({"jsonrpc": "2.0", "id": 42, "method": protocol.RESOLVE,
                          "params": {"provider": "openai"}})  # fmt: skip
        _wait_for_fifo_reader(daemon.process.pid)  # the resolve is now in flight
        daemon.process.send_signal(signum)

        def refused() -> bool:
            try:
                with connect(sandbox.socket_path, timeout=1):
                    return False
            except OSError as exc:
                return exc.errno in (errno.ECONNREFUSED, errno.ENOENT)

        assert wait_until(refused, timeout=3), "still accepting connections after the signal"
        assert daemon.process.poll() is None, "exited with a request in flight"

        # Let the store call return (the FIFO is not a regular file, so it fails cleanly).
        def release_the_store() -> bool:
            try:
                os.close(os.open(sandbox.store_file, os.O_WRONLY | os.O_NONBLOCK))
            except OSError as exc:  # ENXIO: the daemon is not (yet) waiting to read
                if exc.errno != errno.ENXIO:
                    raise
                return False
            return True

        assert wait_until(release_the_store, timeout=5)
        try:
            answer = client.read_json(timeout=10)
        except AssertionError as exc:  # keep the daemon's side of the story
            raise AssertionError(f"{exc}\n--- daemon log ---\n{daemon.log()}") from None
        assert answer["id"] == 42
        assert error_kind(answer) == "store_unavailable", answer
    assert daemon.process.wait(10) == 0, daemon.log()
    assert not os.path.lexists(sandbox.socket_path)


# -- autostart ---------------------------------------------------------------------------

_RESOLVER = textwrap.dedent(
    """
    import json, sys, time
    import nxuskit
    from nxuskit import protocol
    from nxuskit.client import default_client
    go = float(sys.argv[1])
    while time.time() < go:
        time.sleep(0.001)
    resolution = nxuskit.auth_resolve("openai")
    pid = default_client().call(protocol.HELLO, {})["pid"]
    print(json.dumps({"secret": resolution.secret, "source": resolution.source, "pid": pid}))
    """
)


def _seed_store(box: Sandbox, credentials: dict[str, str]) -> None:
    box.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    document = {"format": 1, "credentials": {
        name: {"secret": secret, "auth_method": "api_key", "updated_at": 1.0}
        for name, secret in credentials.items()}}  # fmt: skip
    fd = os.open(box.store_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)


@pytest.mark.timeout(60)
def test_concurrent_clients_autostart_exactly_one_daemon(sandbox: Sandbox) -> None:
    _seed_store(sandbox, {"openai": "sk-autostarted"})
    env = {key: value for key, value in sandbox.env.items() if key != "NXUSKIT_AUTOSTART"}
    env["NXUSKIT_STORE"] = "file"
    assert not os.path.exists(sandbox.socket_path)
    go = time.time() + 1.5  # every client is past its imports before the first one connects
    clients = [
        subprocess.Popen([sys.executable, "-c", _RESOLVER, str(go)], env=env,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(8)
    ]  # fmt: skip
    results = [client.communicate(timeout=40) for client in clients]
    for client, (_, err) in zip(clients, results, strict=True):
        assert client.returncode == 0, err
    answers = [json.loads(out) for out, _ in results]
    assert {answer["secret"] for answer in answers} == {"sk-autostarted"}
    assert {answer["source"] for answer in answers} == {"store"}
    pids = {answer["pid"] for answer in answers}
    assert len(pids) == 1, f"clients reached different daemons: {pids}"
    assert nxuskitd_pids(sandbox) == sorted(pids), "more (or other) daemons were started"
    lock = (sandbox.socket_path.parent / "nxuskitd.sock.lock").read_text().strip()
    assert lock == str(pids.pop())
    log = (sandbox.root / "state" / "nxuskit" / "nxuskitd.log").read_text()
    assert log.count("serving unix:") == 1, log
    assert "cannot start" not in log, "clients started extra daemons that lost the race"
    # the sandbox fixture stops the autostarted daemon


@pytest.mark.timeout(30)
def test_without_autostart_a_missing_daemon_says_how_to_start_it(sandbox: Sandbox) -> None:
    assert os.environ["NXUSKIT_AUTOSTART"] == "0"
    with pytest.raises(nxuskit.DaemonUnavailable) as caught:
        nxuskit.auth_resolve("openai")
    message = str(caught.value)
    assert str(sandbox.socket_path) in message
    assert "nxuskitd" in message
    assert "NXUSKIT_AUTOSTART" in message
    time.sleep(0.3)
    assert not os.path.exists(sandbox.socket_path)
    assert nxuskitd_pids(sandbox) == []


# -- the client's connection -------------------------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "SIGKILL"])
def test_client_reconnects_after_a_daemon_restart(
    sandbox: Sandbox, spawn: Callable[..., Daemon], signum: int
) -> None:
    first = spawn()
    nxuskit.auth_set_credential("openai", "sk-before-restart")
    assert nxuskit.auth_resolve("openai").secret == "sk-before-restart"
    assert default_client().call(protocol.HELLO, {})["pid"] == first.process.pid
    first.stop(signum)
    second = spawn(name="second.log")
    # Same process, same shared connection object until it finds the old one dead.
    assert nxuskit.auth_resolve("openai").secret == "sk-before-restart"
    assert default_client().call(protocol.HELLO, {})["pid"] == second.process.pid


@pytest.mark.timeout(30)
def test_client_reconnects_after_the_daemon_drops_an_idle_connection(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    daemon = spawn("--idle-timeout", "0.5")
    nxuskit.auth_set_credential("openai", "sk-idle")
    with connect(sandbox.socket_path) as idle:
        assert idle.closed_by_peer(timeout=5)  # the daemon does drop idle connections
    time.sleep(0.8)
    assert nxuskit.auth_resolve("openai").secret == "sk-idle"
    assert daemon.process.poll() is None


_FORKER = textwrap.dedent(
    """
    import json, os, sys
    import nxuskit
    from nxuskit.client import default_client

    def socket_inode():
        return os.fstat(default_client()._conn._sock.fileno()).st_ino

    assert nxuskit.auth_resolve("openai").secret == "sk-forked"
    parent_inode = socket_inode()
    read_end, write_end = os.pipe()
    child = os.fork()
    rounds = 200
    if child == 0:
        os.close(read_end)
        try:
            ok = all(nxuskit.auth_resolve("openai").secret == "sk-forked" for _ in range(rounds))
            report = {"ok": ok, "inode": socket_inode()}
        except BaseException as exc:
            report = {"ok": False, "error": repr(exc)}
        os.write(write_end, json.dumps(report).encode())
        os._exit(0)
    os.close(write_end)
    ok = all(nxuskit.auth_resolve("openai").secret == "sk-forked" for _ in range(rounds))
    _, status = os.waitpid(child, 0)
    with os.fdopen(read_end) as pipe:
        child_report = json.loads(pipe.read())
    print(json.dumps({"parent_ok": ok, "parent_inode": parent_inode,
                      "parent_inode_after": socket_inode(), "child": child_report,
                      "child_status": status}))
    """
)


@pytest.mark.timeout(30)
def test_after_fork_the_child_opens_its_own_connection(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    spawn()
    nxuskit.auth_set_credential("openai", "sk-forked")
    result = subprocess.run([sys.executable, "-c", _FORKER], env=sandbox.env,
                            capture_output=True, text=True, timeout=25, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["child_status"] == 0
    assert report["child"]["ok"], report
    assert report["parent_ok"], report
    # The parent kept its connection; the child's is a different socket.
    assert report["parent_inode_after"] == report["parent_inode"]
    assert report["child"]["inode"] != report["parent_inode"]
