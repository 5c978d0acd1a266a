"""nxuskit.aio against a real nxuskitd: many tasks on one loop, restarts, cancellation,
timeouts and errors, on asyncio and (where installed) uvloop, through anyio's pytest plugin.
"""

from __future__ import annotations

import asyncio
import importlib.util
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator

import pytest

import nxuskit
import nxuskit.aio
from nxuskit import autostart, protocol
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox
from tests.integration.conftest import nxuskitd_pids
from tests.integration.test_lifecycle import _seed_store as seed_store
from tests.integration.test_pipelining import store_held

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]

LOOPS = ["asyncio"]
if importlib.util.find_spec("uvloop") is not None:
    LOOPS.append(pytest.param(("asyncio", {"use_uvloop": True}), id="uvloop"))  # type: ignore[arg-type]

KEYS = {
    "groq": "gsk-aio-groq-key",
    "mistral": "mistral-aio-key",
    "together": "together-aio-key",
    "fireworks": "fw-aio-key",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def autostarted(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """The processes the client starts in this test (file store): each exits once its
    daemon serves (in a process of its own, reaped by the sandbox); any still running at
    teardown is stopped and waited for, so no Popen is left to warn."""
    children: list[subprocess.Popen[bytes]] = []
    real_spawn = autostart._spawn

    def keeping_spawn(path: str, log: str) -> subprocess.Popen[bytes]:
        child = real_spawn(path, log)
        children.append(child)
        return child

    monkeypatch.setattr(autostart, "_spawn", keeping_spawn)
    monkeypatch.setenv("NXUSKIT_STORE", "file")
    try:
        yield children
    finally:
        for child in children:
            child.terminate()
            child.wait(10)


def _store(keys: dict[str, str]) -> None:
    for name, secret in keys.items():
        nxuskit.auth_set_credential(name, secret)


@pytest.mark.parametrize("anyio_backend", LOOPS)
async def test_a_thousand_concurrent_tasks_get_the_stored_key_over_one_connection(
    daemon: Daemon,
) -> None:
    nxuskit.auth_set_credential("openai", "sk-aio-thousand")
    reset_default()  # the daemon's connection count below is the aio client's
    async with nxuskit.aio.Client(autostart=False) as client:
        answers = await asyncio.gather(*(client.auth_resolve("openai") for _ in range(1000)))
        status = await client.call(protocol.DAEMON_STATUS, {})
    assert {(a.secret, a.source, a.provider) for a in answers} == {
        ("sk-aio-thousand", "store", "openai")
    }
    assert status["connections"] == 1  # one pipelined connection, not 1,000


@pytest.mark.parametrize("anyio_backend", LOOPS)
async def test_the_module_functions_serve_many_tasks_through_the_loops_client(
    daemon: Daemon,
) -> None:
    try:
        await nxuskit.aio.auth_set_credential("gpt", "  sk-aio-module \n")
        answers = await asyncio.gather(*(nxuskit.aio.auth_resolve("OpenAI") for _ in range(1000)))
        status = await nxuskit.aio.auth_status("openai")
        assert await nxuskit.aio.auth_report_invalid("openai", "sk-aio-module") is False
        with pytest.raises(nxuskit.NotAuthenticated, match="claude"):
            await nxuskit.aio.auth_report_invalid("claude")  # nothing stored to renew
        assert await nxuskit.aio.auth_remove_credential("openai") is True
        assert await nxuskit.aio.auth_remove_credential("openai") is False
    finally:
        await nxuskit.aio.reset()
    assert {a.secret for a in answers} == {"sk-aio-module"}  # trimmed, as the sync client does
    assert (status.status, status.source) == ("authenticated", "store")


async def test_precedence_is_the_blocking_clients(
    daemon: Daemon, monkeypatch: pytest.MonkeyPatch
) -> None:
    nxuskit.auth_set_credential("openai", "sk-stored")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    async with nxuskit.aio.Client(autostart=False) as client:
        explicit = await client.auth_resolve("openai", "sk-explicit")
        env = await client.auth_resolve("openai")
        local = await client.auth_resolve("ollama")
        env_status = await client.auth_status("openai")
        monkeypatch.setenv("OPENAI_API_KEY", "")  # empty counts as unset
        stored = await client.auth_resolve("openai")
    assert (explicit.secret, explicit.source) == ("sk-explicit", "explicit")
    assert (env.secret, env.source) == ("sk-from-env", "env")
    assert (local.secret, local.source, local.auth_method) == (None, None, "none")
    assert env_status.source == "env"
    assert (stored.secret, stored.source) == ("sk-stored", "store")
    assert repr(stored).count("sk-stored") == 0


@pytest.mark.parametrize("anyio_backend", LOOPS)
async def test_a_daemon_killed_midway_is_restarted_and_every_task_gets_the_key(
    sandbox: Sandbox, spawn: Callable[..., Daemon], autostarted: list[subprocess.Popen[bytes]]
) -> None:
    """1,000 tasks resolving three times each; at the 1,000th answer the daemon is killed
    with requests in flight. Those are resolves, safe to resend: the client autostarts a
    new daemon (in a thread, once) and resends them, and every task gets the key."""
    first = spawn()
    nxuskit.auth_set_credential("openai", "sk-survives-restart")
    counts = {"sent": 0, "answered": 0, "in_flight_at_kill": 0}
    secrets: set[str | None] = set()
    client = nxuskit.aio.Client(autostart=True)

    async def resolve_three_times() -> None:
        for _ in range(3):
            counts["sent"] += 1
            secrets.add((await client.auth_resolve("openai")).secret)
            counts["answered"] += 1
            if counts["answered"] == 1000:
                counts["in_flight_at_kill"] = counts["sent"] - counts["answered"]
                os.kill(first.process.pid, signal.SIGKILL)

    try:
        await asyncio.gather(*(resolve_three_times() for _ in range(1000)))
        second = await client.call(protocol.HELLO, {})
    finally:
        await client.aclose()
    assert counts["in_flight_at_kill"] > 0  # the kill did catch requests in flight
    assert counts["answered"] == 3000
    assert secrets == {"sk-survives-restart"}
    assert first.process.wait(10) == -signal.SIGKILL
    assert second["pid"] != first.process.pid
    assert len(autostarted) == 1  # exactly one new daemon was started
    assert nxuskitd_pids(sandbox) == [second["pid"]]


async def test_a_daemon_restarted_between_calls_is_found_again(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    first = spawn()
    nxuskit.auth_set_credential("openai", "sk-between")
    async with nxuskit.aio.Client(autostart=False) as client:
        assert (await client.auth_resolve("openai")).secret == "sk-between"
        first.stop(signal.SIGTERM)
        second = spawn(name="second.log")
        assert (await client.auth_resolve("openai")).secret == "sk-between"
        assert (await client.call(protocol.HELLO, {}))["pid"] == second.process.pid


@pytest.mark.parametrize("anyio_backend", LOOPS)
async def test_cancelled_tasks_leave_every_other_answer_with_its_own_request(
    sandbox: Sandbox, spawn: Callable[..., Daemon]
) -> None:
    """A slow set (the store's lock is held) with 200 resolves of four providers queued
    behind it on the one connection; the set and every other resolve are cancelled while
    their answers are due. The survivors get their own provider's key, and the client
    goes on answering correctly."""
    spawn("--store-timeout", "20")
    _store(KEYS)
    names = list(KEYS) * 50
    async with nxuskit.aio.Client(autostart=False) as client:
        await client.auth_resolve("groq")  # connected, so the lines below go out at once
        with store_held(sandbox.data_dir):
            slow = asyncio.create_task(client.auth_set_credential("groq", "gsk-replaced"))
            tasks = [asyncio.create_task(client.auth_resolve(name)) for name in names]
            for _ in range(3):  # the tasks write their lines; the loop flushes them
                await asyncio.sleep(0)
            slow.cancel()
            for task in tasks[1::2]:
                task.cancel()
        # the lock is free: the set runs, then the queued resolves, in the order written
        done = await asyncio.gather(*tasks, return_exceptions=True)
        after = {name: (await client.auth_resolve(name)).secret for name in KEYS}
    expected = {**KEYS, "groq": "gsk-replaced"}  # the cancelled set still reached the daemon
    for name, task, outcome in zip(names, tasks, done, strict=True):
        if task in tasks[1::2]:
            assert isinstance(outcome, asyncio.CancelledError)
        else:
            assert isinstance(outcome, nxuskit.Resolution), outcome
            assert (outcome.provider, outcome.secret) == (name, expected[name])
    assert slow.cancelled()
    assert after == expected


async def test_an_answer_later_than_nxuskit_timeout_is_an_error_and_is_dropped(
    sandbox: Sandbox, spawn: Callable[..., Daemon], monkeypatch: pytest.MonkeyPatch
) -> None:
    spawn("--store-timeout", "20")
    _store(KEYS)
    monkeypatch.setenv("NXUSKIT_TIMEOUT", "0.5")
    async with nxuskit.aio.Client(autostart=False) as client:
        await client.auth_resolve("groq")
        with store_held(sandbox.data_dir), pytest.raises(nxuskit.DaemonUnavailable) as late:
            await client.auth_set_credential("mistral", "mistral-late")
        # The late answer to the set arrives first now; it must not be taken for these.
        answers = [(await client.auth_resolve(name)).secret for name in KEYS]
    assert "did not answer auth.set_credential in time" in str(late.value)
    assert "NXUSKIT_TIMEOUT" in str(late.value)
    assert answers == [KEYS["groq"], "mistral-late", KEYS["together"], KEYS["fireworks"]]


async def test_autostart_runs_in_a_worker_thread_once_for_all_tasks(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, autostarted: list[subprocess.Popen[bytes]]
) -> None:
    seed_store(sandbox, {"openai": "sk-autostarted"})
    monkeypatch.setenv("NXUSKIT_AUTOSTART", "1")
    starts: list[bool] = []
    real_start = autostart.start_daemon

    def recording_start(path: str) -> None:
        starts.append(threading.current_thread() is threading.main_thread())
        real_start(path)

    monkeypatch.setattr(autostart, "start_daemon", recording_start)
    async with nxuskit.aio.Client() as client:
        answers = await asyncio.gather(*(client.auth_resolve("openai") for _ in range(50)))
    assert starts == [False]  # started once for the 50 tasks, and not on the loop's thread
    assert {a.secret for a in answers} == {"sk-autostarted"}
    assert len(autostarted) == 1
    assert len(nxuskitd_pids(sandbox)) == 1  # the daemon left the process the client started


_LEFT_OPEN = """
import asyncio, gc, os, weakref
import nxuskit.aio

loops = []

async def main() -> None:
    loops.append(weakref.ref(asyncio.get_running_loop()))
    await nxuskit.aio.auth_resolve("openai")  # the loop's default client: never closed here
    await nxuskit.aio.Client(autostart=False).auth_resolve("openai")  # nor this one

asyncio.run(main())
gc.collect()
assert loops[0]() is None, "the default client keeps its ended loop alive"
links = []
for fd in os.listdir("/proc/self/fd"):
    try:
        links.append(os.readlink(f"/proc/self/fd/{fd}"))
    except OSError:
        pass  # the directory listing's own descriptor, closed by now
print(sorted(links))
"""


def test_connections_left_open_are_closed_when_the_loop_ends(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    nxuskit.auth_set_credential("openai", "sk-left-open")
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", _LEFT_OPEN],
        env=sandbox.env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "ResourceWarning" not in done.stderr, done.stderr
    assert "socket:" not in done.stdout  # no descriptor of a connection survives the loop
