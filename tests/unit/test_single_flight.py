"""One call per key, shared: what store reads and OAuth refresh both rely on."""

from __future__ import annotations

import anyio
import pytest

from nxuskit.errors import NotAuthenticated
from nxuskitd.single_flight import SingleFlight

pytestmark = pytest.mark.anyio


async def test_concurrent_callers_share_one_call() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release, calls, answers = anyio.Event(), [], []

    async def slow() -> int:
        calls.append(1)
        await release.wait()
        return 42

    async def ask() -> None:
        answers.append(await flights.run("openai", slow))

    async with anyio.create_task_group() as tasks:
        for _ in range(16):
            tasks.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        assert flights.busy()
        release.set()
    assert (len(calls), answers) == (1, [42] * 16)
    assert not flights.busy()


async def test_every_waiter_gets_its_own_copy_of_the_error() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = anyio.Event()
    errors: list[BaseException] = []

    async def failing() -> int:
        await release.wait()
        raise NotAuthenticated("the acme login is no longer valid")

    async def ask() -> None:
        try:
            await flights.run("acme", failing)
        except NotAuthenticated as error:
            errors.append(error)

    async with anyio.create_task_group() as tasks:
        for _ in range(3):
            tasks.start_soon(ask)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert [error.message for error in errors] == ["the acme login is no longer valid"] * 3
    assert len({id(error) for error in errors}) == 3  # raised in three tasks: three objects


async def test_a_waiter_runs_the_call_itself_when_the_first_caller_is_cancelled() -> None:
    flights: SingleFlight[str] = SingleFlight()
    started = anyio.Event()
    calls: list[str] = []

    async def call_as(name: str) -> str:
        calls.append(name)
        started.set()
        if name == "first":
            await anyio.sleep_forever()
        return name

    answers: list[str] = []
    async with anyio.create_task_group() as tasks:
        first = anyio.CancelScope()

        async def first_caller() -> None:
            with first:
                await flights.run("openai", lambda: call_as("first"))

        async def second_caller() -> None:
            answers.append(await flights.run("openai", lambda: call_as("second")))

        tasks.start_soon(first_caller)
        await started.wait()
        tasks.start_soon(second_caller)
        await anyio.wait_all_tasks_blocked()
        first.cancel()
    assert (calls, answers) == (["first", "second"], ["second"])


async def test_after_forget_a_new_caller_starts_a_new_call() -> None:
    flights: SingleFlight[int] = SingleFlight()
    release = anyio.Event()
    calls: list[int] = []

    async def numbered() -> int:
        calls.append(len(calls))
        await release.wait()
        return len(calls)

    async with anyio.create_task_group() as tasks:
        tasks.start_soon(flights.run, "openai", numbered)
        await anyio.wait_all_tasks_blocked()
        flights.forget()  # the store changed: the read under way may be stale
        tasks.start_soon(flights.run, "openai", numbered)
        await anyio.wait_all_tasks_blocked()
        release.set()
    assert calls == [0, 1]
