"""The client cache never serves an answer older than an acknowledged change.

The invariant (issue 14): once any call that changed a credential has returned, in any
process, no process's next resolve returns the old value. A writer changes the answer
in a loop (a key rotated through the daemon; OAuth tokens refreshed by the daemon
against the real oidc-provider; a keyring entry edited behind the daemon's back, then
``daemon lock``) and publishes each change once acknowledged; eight reader processes
(tests/integration/cache_reader.py), caching as apps do, resolve all the while and
count every answer older than what was published before their resolve began.
"""

from __future__ import annotations

import json
import mmap
import os
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import paths, protocol
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.secret_service import SecretService
from tests.integration.wire import Wire

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


def counting(client: nxuskit.Client) -> list[int]:
    """How many resolves ``client`` sends to the daemon, kept up to date in the list."""
    asked = [0]
    call = client.call

    def counted(method: str, params: dict[str, Any]) -> Any:
        asked[0] += method == protocol.RESOLVE
        return call(method, params)

    client.call = counted  # type: ignore[method-assign]
    return asked


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


# -- what the cache reuses, and when it does not ----------------------------------------


def test_a_repeated_resolve_is_answered_from_memory_and_env_still_wins(
    daemon: Daemon, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, client: nxuskit.Client
) -> None:
    asked = counting(client)
    client.auth_set_credential("openai", "sk-stored-1")
    for _ in range(5):
        assert client.auth_resolve("openai").secret == "sk-stored-1"
    assert asked[0] <= 2  # the first answer after a write may come without leave to reuse
    scrubbed = client.auth_resolve("openai")
    scrubbed.secret = None  # a caller wiping what it was given does not wipe the cache
    assert client.auth_resolve("openai").secret == "sk-stored-1"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    assert (client.auth_resolve("openai").source, client.auth_resolve("gpt").secret) == (
        "env",
        "sk-from-env",
    )
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-2")
    assert client.auth_resolve("openai").secret == "sk-from-env-2"
    monkeypatch.delenv("OPENAI_API_KEY")
    count = asked[0]
    assert client.auth_resolve("openai").secret == "sk-stored-1"
    assert asked[0] == count  # the stored answer was still current
    assert client.auth_resolve("openai", api_key="sk-explicit").source == "explicit"


def test_leave_to_reuse_is_given_only_to_a_client_that_asks(
    daemon: Daemon, sandbox: Sandbox, client: nxuskit.Client
) -> None:
    client.auth_set_credential("openai", "sk-stored-5")
    with Wire(sandbox.socket_path) as wire:
        plain = wire.request("auth.resolve", {"provider": "openai"})["result"]
        asking = wire.request("auth.resolve", {"provider": "openai", "reuse": True})["result"]
    assert plain["reuse"] is None  # as before the cache: nothing to parse, nothing granted
    assert set(asking["reuse"]) == {"generation", "seconds", "idle"}
    assert 0 < asking["reuse"]["seconds"] <= 7200
    view = Path(paths.generation_path(str(sandbox.socket_path))).read_bytes()
    assert struct.unpack_from("<Q", view, 8)[0] == asking["reuse"]["generation"]


def test_the_cache_can_be_turned_off(
    daemon: Daemon, sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, client: nxuskit.Client
) -> None:
    monkeypatch.setenv("NXUSKIT_CLIENT_CACHE", "0")
    asked = counting(client)
    client.auth_set_credential("openai", "sk-stored-2")
    for _ in range(4):
        client.auth_resolve("openai")
    assert asked[0] == 4


@pytest.mark.parametrize("spoil", ["mode", "owner", "symlink"])
def test_a_generation_file_others_could_write_is_never_trusted(
    daemon: Daemon, sandbox: Sandbox, spoil: str, client: nxuskit.Client
) -> None:
    generation = Path(paths.generation_path(str(sandbox.socket_path)))
    header = generation.read_bytes()[:8]
    assert header == b"NXGN\x01\x00\x00\x00"
    assert generation.stat().st_mode & 0o777 == 0o600
    if spoil == "mode":
        generation.chmod(0o666)
    elif spoil == "owner":
        os.chown(generation, 65534, 65534)
    else:  # a link to a file of the same content: still refused (O_NOFOLLOW)
        copy = sandbox.root / "copy"
        copy.write_bytes(generation.read_bytes())
        copy.chmod(0o600)
        generation.rename(sandbox.root / "moved")
        generation.symlink_to(copy)
    asked = counting(client)
    client.auth_set_credential("openai", "sk-stored-3")
    for _ in range(4):
        assert client.auth_resolve("openai").secret == "sk-stored-3"
    assert asked[0] == 4  # every resolve asked the daemon


def test_a_key_set_through_another_daemon_reaches_a_caching_client_within_the_watch(
    daemon: Daemon, spawn: Spawn, sandbox: Sandbox, client: nxuskit.Client
) -> None:
    other = sandbox.root / "b" / "nxuskitd.sock"
    spawn("--socket", str(other), wait=False, name="b.log")
    assert wait_until(lambda: os.path.exists(paths.generation_path(str(other))), timeout=15)
    client.auth_set_credential("openai", "sk-before-b")
    assert wait_until(lambda: client.auth_resolve("openai").reuse is not None)
    done = run_cli(sandbox, "provider", "set", "openai", input="sk-after-b\n",
                   env={"NXUSKIT_SOCKET": str(other)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    # Daemon A notices the shared file changed within its watch (0.1 s), and moves its
    # generation: this client, which asks A nothing meanwhile, then asks again.
    assert wait_until(lambda: client.auth_resolve("openai").secret == "sk-after-b", timeout=5)


def test_a_restarted_daemon_reuses_the_file_with_a_new_generation(
    daemon: Daemon, spawn: Spawn, sandbox: Sandbox, client: nxuskit.Client
) -> None:
    generation = Path(paths.generation_path(str(sandbox.socket_path)))
    client.auth_set_credential("openai", "sk-before-restart")
    assert wait_until(lambda: client.auth_resolve("openai").reuse is not None)
    inode, first = generation.stat().st_ino, generation.read_bytes()[8:]
    daemon.stop()
    assert generation.read_bytes()[8:] != first  # moved at the stop: nothing is reused
    spawn()
    assert generation.stat().st_ino == inode
    assert run_cli(sandbox, "provider", "set", "openai", input="sk-after\n").returncode == 0
    assert client.auth_resolve("openai").secret == "sk-after"


def test_a_config_change_is_seen_within_the_check_interval(
    daemon: Daemon, sandbox: Sandbox, client: nxuskit.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    client.auth_set_credential("openai", "sk-stored-4")
    assert wait_until(lambda: client.auth_resolve("openai").reuse is not None)
    monkeypatch.setenv("MY_OPENAI", "sk-my-env")
    sandbox.write_config('[providers.openai]\nenv = "MY_OPENAI"\n')
    # config.toml is looked at every 0.1 s (and by the daemon's watch, which moves the
    # generation): the new variable takes over without a request being needed first.
    assert wait_until(lambda: client.auth_resolve("openai").source == "env", timeout=5)


def test_the_asyncio_client_reuses_resolves_the_same_way(daemon: Daemon, sandbox: Sandbox) -> None:
    import asyncio

    from nxuskit import aio

    async def scenario() -> tuple[list[str | None], int]:
        async with aio.Client() as client:
            asked = [0]
            call = client.call

            async def counted(method: str, params: dict[str, Any]) -> Any:
                asked[0] += method == protocol.RESOLVE
                return await call(method, params)

            client.call = counted  # type: ignore[method-assign]
            await client.auth_set_credential("openai", "sk-aio-1")
            seen = [(await client.auth_resolve("openai")).secret for _ in range(5)]
            done = await asyncio.to_thread(
                run_cli, sandbox, "provider", "set", "openai", input="sk-aio-2\n"
            )
            assert done.returncode == 0, done.stderr
            seen.append((await client.auth_resolve("openai")).secret)
            return seen, asked[0]

    seen, asked = asyncio.run(scenario())
    assert seen == ["sk-aio-1"] * 5 + ["sk-aio-2"]  # the CLI's set moved the generation
    assert asked <= 3  # the first answer after a write may come without leave to reuse


def test_the_audit_trail_says_how_long_a_resolve_may_be_reused(
    daemon: Daemon, sandbox: Sandbox, client: nxuskit.Client
) -> None:
    client.auth_set_credential("openai", "sk-audited-1")
    assert wait_until(lambda: client.auth_resolve("openai").reuse is not None)
    for _ in range(100):  # answered from the cache: no daemon access, no entry
        client.auth_resolve("openai")
    with Wire(sandbox.socket_path) as wire:
        wire.request("auth.resolve", {"provider": "openai"})  # asks for no reuse
    resolves = [e for e in client.audit_query().entries if e.method == protocol.RESOLVE]
    granted = [e.reuse for e in resolves if e.reuse is not None]
    assert len(resolves) <= 4  # the warm-up's, and the plain one: not 100 more
    assert granted
    assert all(0 < seconds <= 7200 for seconds in granted)
    assert resolves[-1].reuse is None  # the plain request was granted nothing
