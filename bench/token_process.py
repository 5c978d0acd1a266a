"""Figure 4b/4c: ``nxuskit-cli token`` as a whole process, as the tools that use it as a
key helper pay for it at every start.

It is measured beside ``python -c "import typer"`` (what any typer command costs before
it does anything; the target is 1.5x of it) and ``python -c "import json, socket"`` (the
floor of a Python client), the three alternated in each round against one daemon.
"""

from __future__ import annotations

import statistics
import sys

import harness
from harness import spread

Row = tuple[str, str, str, str, str, bool | None]

TARGET = 1.5
"""``token`` / ``import typer``, at most."""


def token_rows(box: harness.Sandbox, cli: str, runs: int) -> list[Row]:
    """The two figures, from ``runs`` rounds (``box``'s daemon holds openai's key)."""
    py = sys.executable
    commands = {
        "token": [cli, "token", "openai"],
        "typer": [py, "-c", "import typer"],
        "stdlib": [py, "-c", "import json, socket"],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for argv in commands.values():
        harness.time_process(argv, box.env)  # warm the page cache
    for _ in range(runs):
        for name, argv in commands.items():
            times[name].append(harness.time_process(argv, box.env))
    token, typer, stdlib = (statistics.median(times[name]) for name in commands)
    return [
        (
            "4b. `nxuskit-cli token openai` (ms) vs `import typer`",
            spread(times["token"]),
            spread(times["typer"]),
            f"{token / typer:.2f}x",
            f"<= {TARGET}x",
            token / typer <= TARGET,
        ),
        (
            "4c. `nxuskit-cli token openai` (ms) vs `import json, socket`",
            spread(times["token"]),
            spread(times["stdlib"]),
            f"{token / stdlib:.2f}x",
            "-",
            None,
        ),
    ]
