"""The client cache never serves an answer older than an acknowledged change (issue 14).

The invariant: once any call that changed a credential has returned, in any process, no
process's next resolve returns the old value. A writer changes the answer in a loop (a
key rotated through the daemon, on the file store and on the keyring; OAuth tokens
refreshed by the daemon against the real oidc-provider; a keyring entry edited behind
the daemon's back, then ``daemon lock``) and publishes each change once acknowledged;
eight reader processes (tests/integration/cache_reader.py), caching as apps do, resolve
all the while and count every answer older than what was published before their resolve
began. Each fails when the daemon's generation does not move (bench/client_cache.md).
"""

from __future__ import annotations

import json
import mmap
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import protocol
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import wait_until
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.secret_service import SecretService

Spawn = Callable[..., Daemon]
READER = Path(__file__).with_name("cache_reader.py")
READERS = 8


class Board:
    """What the writer has had acknowledged (bytes 0-7, a float64), and whether it is done
    (bytes 8-15), in a file every reader maps."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.write_bytes(bytes(16))
        self._handle = open(path, "r+b")  # noqa: SIM115 - closed in close()
        self._map = mmap.mmap(self._handle.fileno(), 16)

    def publish(self, value: float) -> None:
        struct.pack_into("<d", self._map, 0, value)

    def finish(self) -> None:
        struct.pack_into("<Q", self._map, 8, 1)

    def close(self) -> None:
        self._map.close()
        self._handle.close()


class Readers:
    """Eight reader processes resolving ``provider`` until the board says done."""

    def __init__(self, box: Sandbox, provider: str, mode: str) -> None:
        self.board = Board(box.root / "board")
        self.processes = [
            subprocess.Popen(
                [sys.executable, str(READER), str(self.board.path), provider, mode],
                env=box.env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(READERS)
        ]

    def results(self) -> list[dict[str, Any]]:
        """Stop the readers and gather what each saw."""
        self.board.finish()
        found = []
        for process in self.processes:
            out, err = process.communicate(timeout=60)
            assert process.returncode == 0, err
            found.append(json.loads(out))
        return found

    def stop(self) -> None:
        """End whatever still runs (a test that failed half-way) and close the board."""
        self.board.finish()
        for process in self.processes:
            if process.poll() is None:
                process.kill()
            process.communicate(timeout=30)
        self.board.close()


Start = Callable[[str, str], Readers]


@pytest.fixture
def start_readers(sandbox: Sandbox) -> Iterator[Callable[[str, str], Readers]]:
    """Starts the readers of a test (``start_readers(provider, mode)``), stopped at its end
    whatever happened."""
    started: list[Readers] = []

    def start(provider: str, mode: str) -> Readers:
        started.append(Readers(sandbox, provider, mode))
        return started[-1]

    yield start
    for readers in started:
        readers.stop()


@pytest.fixture
def client(sandbox: Sandbox) -> Iterator[nxuskit.Client]:
    """A Client of this test's own (closed at the end), cache on as apps have it."""
    with nxuskit.Client() as made:
        yield made


def asked(client: nxuskit.Client, provider: str) -> nxuskit.Resolution:
    """The daemon's own answer now (the writer's view, never from a cache)."""
    answer = client.call(protocol.RESOLVE, {"provider": provider})
    return nxuskit.Resolution.from_wire(answer, protocol.RESOLVE)


def check(results: list[dict[str, Any]], writes: int) -> None:
    """No reader saw an older value; the readers did use their caches meanwhile."""
    assert [r["stale"] for r in results] == [0] * READERS, results
    assert [r["errors"] for r in results] == [[]] * READERS, results
    reused = sum(r["resolves"] - r["asked"] for r in results)
    asked = sum(r["asked"] for r in results)
    assert reused > writes, results  # answers came from the caches between the writes
    assert asked > writes, results  # and the writes made the readers ask again


def warm(readers: Readers) -> None:
    """Wait until every reader has answered from its cache, so that the writes below
    meet warm caches."""
    path = readers.board.path

    def all_warm() -> bool:
        assert all(process.poll() is None for process in readers.processes)
        return len(list(path.parent.glob(path.name + ".*"))) == READERS

    assert wait_until(all_warm, timeout=30)


# -- the invariant ---------------------------------------------------------------------


@pytest.mark.timeout(120)
@pytest.mark.parametrize("store", ["file", "keyring"])
def test_a_rotated_key_is_never_read_older_than_acknowledged(
    store: str,
    spawn: Spawn,
    sandbox: Sandbox,
    client: nxuskit.Client,
    start_readers: Start,
    request: pytest.FixtureRequest,
) -> None:
    env = sandbox.env
    if store == "keyring":  # no fingerprint: the write's own move is the only one
        env = {**env, **request.getfixturevalue("secret_service").env}
    spawn("--store", store, env=env)
    client.auth_set_credential("openai", "sk-rotated-000000")
    readers = start_readers("openai", "index")
    warm(readers)
    writes = 120 if store == "file" else 30
    for index in range(1, writes + 1):
        client.auth_set_credential("openai", f"sk-rotated-{index:06d}")
        readers.board.publish(index)  # acknowledged: no reader may see less from now on
    check(readers.results(), writes)


@pytest.fixture(scope="module")
def auth_server() -> Iterator[AuthServer]:
    yield from run_auth_server()


@pytest.mark.timeout(120)
def test_refreshed_oauth_tokens_are_never_read_older_than_acknowledged(
    daemon: Daemon,
    sandbox: Sandbox,
    auth_server: AuthServer,
    client: nxuskit.Client,
    start_readers: Start,
) -> None:
    sandbox.write_config(auth_server.config(client_id="nxuskit-short"))
    browser = Browser(auth_server)
    try:
        start = nxuskit.auth_login_start("acme")
        assert start.authorization_url is not None
        assert browser.callback(browser.authorize(start.authorization_url)).status_code == 200
        assert nxuskit.auth_login_wait(start.login_id, timeout=30) is not None
    finally:
        browser.close()
    before = auth_server.refreshes()
    readers = start_readers("acme", "expiry")
    warm(readers)
    forced = 6
    for _ in range(forced):  # refreshes a client asks for, acknowledged when they return
        assert client.auth_report_invalid("acme", asked(client, "acme").secret)
        fresh = asked(client, "acme")
        assert fresh.expires_at is not None
        readers.board.publish(fresh.expires_at)

    def refreshed_on_its_own() -> bool:  # the token ages into its margin: a resolve refreshes
        latest = asked(client, "acme").expires_at
        assert latest is not None
        readers.board.publish(latest)
        return auth_server.refreshes() > before + forced

    assert wait_until(refreshed_on_its_own, timeout=30, step=0.01)
    check(readers.results(), forced)


def edit_behind_the_daemon(ss: SecretService, value: str) -> None:
    """Change the openai entry in the Secret Service itself, as another tool would."""
    with ss.collection() as collection:
        (item,) = collection.search_items({"service": "nxuskit", "username": "openai"})
        item.set_secret(value.encode())


@pytest.mark.timeout(120)
def test_a_lock_makes_every_reader_see_the_store_again(
    spawn: Spawn,
    sandbox: Sandbox,
    secret_service: SecretService,
    client: nxuskit.Client,
    start_readers: Start,
) -> None:
    spawn("--store", "keyring", env={**sandbox.env, **secret_service.env})
    client.auth_set_credential("openai", "sk-locked-000000")
    readers = start_readers("openai", "index")
    warm(readers)
    writes = 25
    for index in range(1, writes + 1):
        edit_behind_the_daemon(secret_service, f"sk-locked-{index:06d}")
        assert client.daemon_lock() >= 0  # acknowledged: the store is read again
        readers.board.publish(index)
    check(readers.results(), writes)
