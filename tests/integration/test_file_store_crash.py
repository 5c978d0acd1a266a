"""The file store under a real daemon: private files, no lost updates under concurrency,
every credential at its old or new value after kill -9, and loud errors (never a silent
reset) on a corrupt or loosely protected credentials.json."""

from __future__ import annotations

import functools
import json
import os
import random
import signal
import stat
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

import nxuskit
from nxuskit import protocol
from tests.conftest import Daemon, Sandbox, socket_answers
from tests.integration.conftest import wait_until
from tests.integration.wire import connect

TEAMS = [f"team{number}" for number in range(8)]


def _team_config(box: Sandbox) -> None:
    box.write_config("".join(
        f'[providers.{name}]\nenv = "{name.upper()}_API_KEY"\nauth_methods = ["api_key"]\n\n'
        f'[providers.scratch{name[4:]}]\nauth_methods = ["api_key"]\n\n'
        for name in TEAMS))  # fmt: skip


def _document(box: Sandbox) -> dict[str, str]:
    """credentials.json as {provider: secret}; fails unless it is a valid document."""
    document = json.loads(box.store_file.read_bytes())
    assert document["format"] == 1
    return {name: record["secret"] for name, record in document["credentials"].items()}


def _seed(box: Sandbox, credentials: dict[str, str], mode: int = 0o600) -> bytes:
    box.data_dir.mkdir(parents=True, mode=0o700, exist_ok=True)
    data = json.dumps({"format": 1, "credentials": {
        name: {"secret": secret, "auth_method": "api_key", "updated_at": 1.0}
        for name, secret in credentials.items()}}).encode()  # fmt: skip
    box.store_file.write_bytes(data)
    box.store_file.chmod(mode)
    return data


def _assert_private(directory: Path) -> None:
    st = os.stat(directory)
    assert stat.S_IMODE(st.st_mode) == 0o700, f"{directory} is {stat.S_IMODE(st.st_mode):o}"
    for entry in directory.iterdir():
        mode = stat.S_IMODE(os.lstat(entry).st_mode)
        assert mode & 0o077 == 0, f"{entry} is readable by others ({mode:o})"
        assert os.lstat(entry).st_uid == os.getuid()


@pytest.mark.timeout(30)
def test_store_is_created_private_and_leaves_no_temporary_files(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    assert not sandbox.data_dir.exists()
    nxuskit.auth_set_credential("openai", "sk-one")
    nxuskit.auth_set_credential("claude", "sk-two")
    assert nxuskit.auth_remove_credential("openai")
    _assert_private(sandbox.data_dir)
    assert stat.S_IMODE(os.stat(sandbox.store_file).st_mode) == 0o600
    assert sorted(p.name for p in sandbox.data_dir.iterdir() if p.name.endswith(".tmp")) == []
    assert _document(sandbox) == {"claude": "sk-two"}


_WRITER = textwrap.dedent(
    """
    import sys
    import nxuskit
    index, rounds = int(sys.argv[1]), int(sys.argv[2])
    for number in range(rounds):
        nxuskit.auth_set_credential(f"team{index}", f"{index}-{number}")
        nxuskit.auth_set_credential(f"scratch{index}", f"scratch-{index}-{number}")
        assert nxuskit.auth_remove_credential(f"scratch{index}")
        assert nxuskit.auth_resolve(f"team{index}").secret == f"{index}-{number}"
    """
)


@pytest.mark.timeout(90)
@pytest.mark.parametrize("daemons", [1, 2], ids=["one-daemon", "two-daemons-one-file"])
def test_concurrent_writers_never_lose_an_update(
    sandbox: Sandbox, spawn: Callable[..., Daemon], daemons: int
) -> None:
    """8 processes set and remove at once; with two daemons (two sockets) sharing the
    file, only the store's lock and re-read keep the updates from clobbering each other."""
    _team_config(sandbox)
    sandbox.store_file.parent.mkdir(parents=True, mode=0o700)
    sockets = [str(sandbox.socket_path.parent / f"d{number}.sock") for number in range(daemons)]
    for number, path in enumerate(sockets):
        spawn("--socket", path, wait=False, name=f"d{number}.log")
    for path in sockets:
        assert wait_until(functools.partial(socket_answers, path)), path
    rounds = 12
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(index), str(rounds)],
                         env={**sandbox.env, "NXUSKIT_SOCKET": sockets[index % daemons]},
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for index in range(len(TEAMS))
    ]  # fmt: skip
    for writer in writers:
        _, err = writer.communicate(timeout=60)
        assert writer.returncode == 0, err
    expected = {f"team{index}": f"{index}-{rounds - 1}" for index in range(len(TEAMS))}
    assert _document(sandbox) == expected
    _assert_private(sandbox.data_dir)
    for path in sockets:  # every daemon agrees with the file
        with connect(path) as wire:
            for name, secret in expected.items():
                answer = wire.request(protocol.RESOLVE, {"provider": name})
                assert answer["result"]["secret"] == secret, answer


@pytest.mark.timeout(90)
def test_kill9_during_a_storm_of_sets_leaves_old_or_new_values(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """Six connections set their own provider in a loop; the daemon is killed with -9 at
    a random moment, six times. After each kill credentials.json must be a valid
    document where each provider holds its last acknowledged value or the one in flight
    (never an older one, never a torn one), and nothing in the directory is open to others."""
    _team_config(sandbox)
    # A large document makes each write take a while, so a kill often lands mid-write.
    fillers = {f"filler{number}": f"{number}-" + "f" * 8000 for number in range(150)}
    _seed(sandbox, fillers)
    names = TEAMS[:6]
    acked = dict.fromkeys(names, -1)  # the last value the daemon acknowledged
    sent = dict.fromkeys(names, -1)  # the last value sent (maybe in flight at the kill)
    chooser = random.Random(1129)

    def storm(name: str, stop: threading.Event) -> None:
        try:
            with connect(sandbox.socket_path, timeout=5) as wire:
                while not stop.is_set():
                    value = sent[name] + 1
                    sent[name] = value
                    params = {"provider": name, "secret": f"{name}-{value}"}
                    answer = wire.request(protocol.SET_CREDENTIAL, params)
                    assert answer["result"]["stored"] is True, answer
                    acked[name] = value
        except (OSError, AssertionError, ValueError):
            pass  # the daemon died under us: that is the point

    for round_number in range(6):
        daemon = spawn(name=f"round{round_number}.log")  # replaces the stale socket
        stop = threading.Event()
        threads = [threading.Thread(target=storm, args=(name, stop)) for name in names]
        for thread in threads:
            thread.start()
        time.sleep(0.15 + chooser.random() * 0.3)
        daemon.process.send_signal(signal.SIGKILL)
        daemon.process.wait(10)
        stop.set()
        for thread in threads:
            thread.join(10)
        stored = _document(sandbox)
        assert {name: stored.get(name) for name in fillers} == fillers
        for name in names:
            if acked[name] < 0 and name not in stored:
                continue
            assert name in stored, f"{name} lost (acknowledged {acked[name]})"
            value = int(stored[name].rsplit("-", 1)[1])
            assert acked[name] <= value <= sent[name], (name, acked[name], value, sent[name])
        _assert_private(sandbox.data_dir)
        assert stat.S_IMODE(os.stat(sandbox.store_file).st_mode) == 0o600
    assert min(acked.values()) > 0, f"the storm hardly ran: {acked}"
    # A new daemon serves exactly what the file says.
    spawn(name="after.log")
    stored = _document(sandbox)
    with connect(sandbox.socket_path) as wire:
        for name in names:
            answer = wire.request(protocol.RESOLVE, {"provider": name})
            assert answer["result"]["secret"] == stored[name]


CORRUPT = {
    "truncated": b'{"format":1,"credentials":{"openai":{"secret":"sk-keep-me","auth_meth',
    "binary": bytes(range(256)) * 4,
    "wrong-shape": b'{"format":1,"credentials":["sk-keep-me"]}',
    "empty": b"",
}


@pytest.mark.timeout(30)
@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_a_corrupt_store_is_an_error_that_loses_nothing(
    sandbox: Sandbox, spawn: Callable[..., Daemon], content: bytes
) -> None:
    sandbox.data_dir.mkdir(parents=True, mode=0o700)
    sandbox.store_file.write_bytes(content)
    sandbox.store_file.chmod(0o600)
    before = os.stat(sandbox.store_file)
    daemon = spawn()
    for attempt in (
        lambda: nxuskit.auth_resolve("openai"),
        lambda: nxuskit.auth_set_credential("claude", "sk-new"),
        lambda: nxuskit.auth_remove_credential("openai"),
        lambda: nxuskit.auth_status("openai"),
        nxuskit.auth_status_all,
    ):
        with pytest.raises(nxuskit.StoreUnavailable) as caught:
            attempt()
        assert str(sandbox.store_file) in str(caught.value)
        assert "corrupt" in str(caught.value)
        assert "sk-keep-me" not in str(caught.value)
    assert sandbox.store_file.read_bytes() == content
    after = os.stat(sandbox.store_file)
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    # The daemon itself keeps serving, and recovers once the file is moved away.
    with connect(sandbox.socket_path) as wire:
        assert wire.request(protocol.HELLO, {})["result"]["pid"] == daemon.process.pid
    sandbox.store_file.rename(sandbox.data_dir / "credentials.json.broken")
    nxuskit.auth_set_credential("claude", "sk-new")
    assert nxuskit.auth_resolve("claude").secret == "sk-new"
    assert (sandbox.data_dir / "credentials.json.broken").read_bytes() == content
    assert "sk-keep-me" not in daemon.log()


@pytest.mark.timeout(30)
def test_a_store_readable_by_others_is_refused_until_fixed(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    data = _seed(sandbox, {"openai": "sk-exposed"}, mode=0o644)
    spawn()
    for attempt in (
        lambda: nxuskit.auth_resolve("openai"),
        lambda: nxuskit.auth_set_credential("claude", "sk-new"),
    ):
        with pytest.raises(nxuskit.NxuskitError) as caught:
            attempt()
        message = str(caught.value)
        assert f"chmod 600 {sandbox.store_file}" in message
        assert "sk-exposed" not in message
    # Nothing was silently fixed or rewritten.
    assert stat.S_IMODE(os.stat(sandbox.store_file).st_mode) == 0o644
    assert sandbox.store_file.read_bytes() == data
    sandbox.store_file.chmod(0o600)
    assert nxuskit.auth_resolve("openai").secret == "sk-exposed"


@pytest.mark.timeout(30)
def test_a_store_directory_open_to_others_is_refused_for_writes(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    data = _seed(sandbox, {"openai": "sk-dir"})
    sandbox.data_dir.chmod(0o755)
    spawn()
    with pytest.raises(nxuskit.NxuskitError) as caught:
        nxuskit.auth_set_credential("claude", "sk-new")
    assert f"chmod 700 {sandbox.data_dir}" in str(caught.value)
    assert sandbox.store_file.read_bytes() == data
