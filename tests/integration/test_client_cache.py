"""What the client cache reuses, and when it does not (issue 14).

The invariant itself (eight readers never see an older value) is
test_client_cache_invariant.py; here are the rules around it: environment and explicit
precedence on every call, the switch, the trust of the generation file, the daemon's
watch window, a restarted daemon, config.toml, the asyncio client, the audit trail.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import nxuskit
from nxuskit import paths, protocol
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import wait_until
from tests.integration.wire import Wire

Spawn = Callable[..., Daemon]


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
