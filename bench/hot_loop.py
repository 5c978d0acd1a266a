"""Item 7 of the suite: repeated resolves answered by the client cache (issue 14).

Figures, all in the run of ``bench/run.py``:

- 7a-7c. A hot loop of warm resolves in one process, cache on: calls per second over
  the whole loop, and p50/p99 per call, against ssh-agent's request round trip (pinned to
  one CPU, its fastest placement) and against a plain ``os.environ["OPENAI_API_KEY"]``
  lookup, alternated in rounds.
- 7d. The first resolve in a fresh process (import done, connect, hello, resolve), with
  the cache on against the cache off: mapping the generation file must cost nothing
  that shows.

The other items measure the round trip itself, with the cache off (``harness.sandbox``
sets ``NXUSKIT_CLIENT_CACHE=0``).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

import harness
from harness import AgentClient, applied, latencies, percentile, spread

Row = tuple[str, str, str, str, str, bool | None]
CACHE_ON = {"NXUSKIT_CLIENT_CACHE": "1"}
FIRST_RESOLVE = (
    "import time, nxuskit\n"
    "start = time.perf_counter()\n"
    "nxuskit.auth_resolve('openai')\n"
    "print((time.perf_counter() - start) * 1000)\n"
)


def hot_loop_rows(
    box: harness.Sandbox, agent: str, pids: tuple[int, int], calls: int, rounds: int
) -> list[Row]:
    """7a-7c: the cached hot loop against ssh-agent and an environment lookup."""
    import nxuskit
    from nxuskit.client import reset_default

    per_round = max(1, calls // rounds)
    harness.pin({0: 0, pids[0]: 0, pids[1]: 0})
    ours: list[float] = []
    agent_times: list[float] = []
    env_times: list[float] = []
    loop_seconds = 0.0
    client = AgentClient(agent)
    try:
        with applied({**box.env, **CACHE_ON}):
            reset_default()
            nxuskit.auth_resolve("openai")
            nxuskit.auth_resolve("openai")  # the first answer after a start is not reused
            for _ in range(rounds):
                start = time.perf_counter()
                for _ in range(per_round):
                    nxuskit.auth_resolve("openai")
                loop_seconds += time.perf_counter() - start
                ours += latencies(lambda: nxuskit.auth_resolve("openai"), per_round)
                agent_times += latencies(client.identities, max(1, per_round // 50))
                os.environ["OPENAI_API_KEY"] = "sk-bench-env"
                env_times += latencies(lambda: os.environ["OPENAI_API_KEY"], per_round)
                del os.environ["OPENAI_API_KEY"]
            reset_default()
    finally:
        client.close()
        harness.unpin([0, *pids])
    per_second = per_round * rounds / loop_seconds
    rows: list[Row] = [
        (
            f"7a. cached resolve, hot loop of {per_round * rounds:,} (calls/s) vs ssh-agent",
            f"{per_second:,.0f}",
            f"{1e6 / statistics.median(agent_times):,.0f}",
            f"{per_second * statistics.median(agent_times) / 1e6:.0f}x more",
            ">= 10x",
            per_second * statistics.median(agent_times) / 1e6 >= 10,
        )
    ]
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        a = percentile(ours, fraction)
        b, c = percentile(agent_times, fraction), percentile(env_times, fraction)
        rows.append(
            (
                f"7b. cached resolve {label} (us) vs ssh-agent round trip, same CPU",
                f"{a:.2f}",
                f"{b:.2f}",
                f"{a / b:.3f}x",
                "<= 0.1x",
                a / b <= 0.1,
            )
        )
        rows.append(
            (
                f'7c. cached resolve {label} (us) vs os.environ["OPENAI_API_KEY"]',
                f"{a:.2f}",
                f"{c:.2f}",
                f"{a / c:.2f}x",
                "-",
                None,
            )
        )
    return rows


def first_resolve_row(box: harness.Sandbox, runs: int) -> Row:
    """7d: the first resolve of a fresh process, cache on vs cache off."""

    def once(env: dict[str, str]) -> float:
        done = subprocess.run(
            [sys.executable, "-c", FIRST_RESOLVE],
            env=env,
            check=True,
            capture_output=True,
            text=True,
        )
        return float(done.stdout)

    on, off = [], []
    for _ in range(runs):
        on.append(once({**box.env, **CACHE_ON}))
        off.append(once(box.env))
    a, b = statistics.median(on), statistics.median(off)
    return (
        "7d. first resolve in a fresh process (ms), cache on vs off",
        spread(on),
        spread(off),
        f"{a / b:.2f}x",
        "<= 1.1x",
        a / b <= 1.1,
    )
