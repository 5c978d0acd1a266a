"""Figure 8: ``nxuskit.aio``, 1,000 concurrent resolves on one event loop, beside the
blocking client's resolves in the same run (same daemon, same stored key).

The blocking client answers one call at a time per connection, so its figure is a loop
of round trips. The async client's tasks all write their requests on its one pipelined
connection at once: its throughput is the burst's, and a task's latency is how long it
waited in that burst (a queue, not a round trip), so the latencies are shown, not judged.
"""

from __future__ import annotations

import asyncio
import importlib.util
import time
from collections.abc import Callable, Coroutine
from typing import Any

import harness
from harness import applied, latencies, percentile

Row = tuple[str, str, str, str, str, bool | None]
TASKS = 1000


async def _burst(count: int) -> tuple[float, list[float]]:
    """``count`` concurrent resolves on the running loop: resolves per second, and each
    task's latency in microseconds."""
    import nxuskit.aio

    await nxuskit.aio.auth_resolve("openai")  # connected and said hello before the clock

    async def timed() -> float:
        start = time.perf_counter_ns()
        await nxuskit.aio.auth_resolve("openai")
        return (time.perf_counter_ns() - start) / 1000

    start = time.perf_counter()
    waits = await asyncio.gather(*(timed() for _ in range(count)))
    elapsed = time.perf_counter() - start
    await nxuskit.aio.reset()
    return count / elapsed, list(waits)


def _loops() -> dict[str, Callable[[Coroutine[Any, Any, Any]], Any]]:
    loops: dict[str, Callable[[Coroutine[Any, Any, Any]], Any]] = {"asyncio": asyncio.run}
    if importlib.util.find_spec("uvloop") is not None:
        import uvloop

        loops["uvloop"] = uvloop.run
    return loops


def rows(rounds: int) -> list[Row]:
    """Throughput against the blocking client's, and the latencies of both, against a
    daemon of their own."""
    with harness.sandbox() as box:
        harness.write_store(box, 1)
        daemon = harness.start_daemon(box)
        try:
            return _measure(box, rounds)
        finally:
            harness.stop(daemon)


def _measure(box: harness.Sandbox, rounds: int) -> list[Row]:
    import nxuskit
    from nxuskit.client import reset_default

    blocking_rates: list[float] = []
    blocking_waits: list[float] = []
    found: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in _loops()}
    with applied(box.env):
        reset_default()
        nxuskit.auth_resolve("openai")
        for _ in range(rounds):
            start = time.perf_counter()
            blocking_waits += latencies(lambda: nxuskit.auth_resolve("openai"), TASKS)
            blocking_rates.append(TASKS / (time.perf_counter() - start))
            for name, run in _loops().items():
                rate, waits = run(_burst(TASKS))
                found[name][0].append(rate)
                found[name][1].extend(waits)
        reset_default()
    baseline = max(blocking_rates)
    result: list[Row] = []
    for name, (rates, waits) in found.items():
        best = max(rates)
        result.append(
            (
                f"8a. aio ({name}): {TASKS:,} concurrent resolves on one loop (resolves/s) "
                "vs the blocking client's one by one",
                f"{best:,.0f}",
                f"{baseline:,.0f}",
                f"{best / baseline:.2f}x",
                ">= 1x",
                best >= baseline,
            )
        )
        for label, fraction in (("p50", 0.5), ("p99", 0.99)):
            result.append(
                (
                    f"8b. aio ({name}): a task's wait in the burst {label} (us) "
                    "vs a blocking round trip",
                    f"{percentile(waits, fraction):,.0f}",
                    f"{percentile(blocking_waits, fraction):,.1f}",
                    "-",
                    "-",
                    None,
                )
            )
    return result
