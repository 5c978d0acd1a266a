"""The per-provider OAuth lock that daemons sharing a store take around a refresh: real
flock on a real file, a real second process."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import anyio
import pytest

from nxuskit.errors import NxuskitError
from nxuskitd.oauth.lock import LockBusy, lock_path, provider_lock

HOLDER = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o600)
fcntl.flock(fd, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.read()
"""


@pytest.fixture
def data_dir(tmp_path: Path) -> str:
    return str(tmp_path / "data" / "nxuskit")  # the daemon's own, as platformdirs names it


@pytest.mark.anyio
async def test_another_process_holding_the_lock_makes_us_wait(data_dir: str) -> None:
    async with provider_lock(data_dir, "acme"):
        pass  # creates the directory and the file
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, lock_path(data_dir, "acme")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert holder.stdout is not None
    try:
        assert holder.stdout.readline().strip() == "held"
        ticks = 0

        async def tick() -> None:
            nonlocal ticks
            while True:
                await anyio.sleep(0.01)
                ticks += 1

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(tick)
            with pytest.raises(LockBusy) as busy:
                async with provider_lock(data_dir, "acme", timeout=0.3):
                    pytest.fail("the lock was held by another process")
            tasks.cancel_scope.cancel()
        assert ticks > 0  # the event loop kept running while we waited
        assert "another nxuskitd" in str(busy.value)
    finally:
        holder.communicate("", timeout=10)
    async with provider_lock(data_dir, "acme", timeout=5):
        pass  # free again once the holder is gone


@pytest.mark.anyio
async def test_a_waiter_that_gave_up_does_not_keep_the_lock(data_dir: str) -> None:
    order: list[str] = []
    release = anyio.Event()

    async def first() -> None:
        async with provider_lock(data_dir, "acme"):
            order.append("first")
            await release.wait()

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(first)
        await anyio.wait_all_tasks_blocked()
        with pytest.raises(LockBusy):  # its thread still waits in flock
            async with provider_lock(data_dir, "acme", timeout=0.2):
                pass
        release.set()
    # the abandoned thread took the lock when "first" let go, and released it at once
    async with provider_lock(data_dir, "acme", timeout=5):
        order.append("third")
    assert order == ["first", "third"]


@pytest.mark.anyio
async def test_waiters_in_one_process_take_turns(data_dir: str) -> None:
    inside = 0
    most = 0

    async def refresh() -> None:
        nonlocal inside, most
        async with provider_lock(data_dir, "acme"):
            inside += 1
            most = max(most, inside)
            await anyio.sleep(0.02)
            inside -= 1

    async with anyio.create_task_group() as tasks:
        for _ in range(5):
            tasks.start_soon(refresh)
    assert most == 1


@pytest.mark.anyio
async def test_the_lock_file_is_private_and_never_a_symlink(data_dir: str, tmp_path: Path) -> None:
    async with provider_lock(data_dir, "acme"):
        pass
    path = Path(lock_path(data_dir, "acme"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    path.unlink()
    path.symlink_to(target)
    with pytest.raises(NxuskitError, match="move it away"):
        async with provider_lock(data_dir, "acme"):
            pass
    assert target.read_text() == "keep"
    path.unlink()
    os.chmod(data_dir, 0o755)
    with pytest.raises(NxuskitError, match="chmod 700"):
        async with provider_lock(data_dir, "acme"):
            pass


def test_unusual_names_become_a_hash(data_dir: str) -> None:
    assert lock_path(data_dir, "acme").endswith("oauth-acme.lock")
    odd = lock_path(data_dir, "../Acme")
    assert os.path.dirname(odd) == data_dir
    assert ".." not in os.path.basename(odd)
