"""bench/run.py --quick (run by `make test`) says its figures mean nothing, and judges none."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench" / "run.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("nxuskit_bench_run", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    path = list(sys.path)
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path[:] = path  # run.py puts bench/ first for its harness
    return module


ROWS = [
    ("1. warm round trip (us)", "91", "8", "11.4x", "<= 2x", False),
    ("2. throughput", "10", "50", "0.2x", ">= 1x", True),
    ("3. info", "1", "1", "1x", "-", None),
]


def test_quick_mode_judges_no_figure() -> None:
    bench = _bench()
    table = bench.render(ROWS, quick=True)
    assert "NO" not in table
    assert "yes" not in table
    assert table.count("n/a (quick)") == len(ROWS)
    assert "not meaningful" in bench.QUICK_NOTE


def test_a_full_run_judges_each_figure() -> None:
    table = _bench().render(ROWS)
    assert [line.rstrip(" |").rsplit("| ", 1)[1].strip() for line in table.splitlines()[2:]] == [
        "NO",
        "yes",
        "-",
    ]
