"""The client's modules import each other in one direction: no cycle, and each one imports
alone in a fresh interpreter.

The graph counts every import of an ``nxuskit`` module, the ones inside functions too
(a lazy import is still a dependency), but not those under ``if TYPE_CHECKING:``, which
never run. ``nxuskit/__init__.py`` is left out: it names its exports as strings and
imports each on first use.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nxuskit

CLIENT = Path(nxuskit.__file__).parent
MODULES = sorted(path.stem for path in CLIENT.glob("*.py") if path.stem != "__init__")


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING"


def _imported(tree: ast.AST, known: set[str]) -> set[str]:
    """The nxuskit modules ``tree`` imports at run time (at any depth)."""
    found: set[str] = set()
    pending = [tree]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            continue
        if isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names if a.name.startswith("nxuskit."))
        elif isinstance(node, ast.ImportFrom) and node.module == "nxuskit":
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("nxuskit."):
            found.add((node.module or "").split(".")[1])
        pending.extend(ast.iter_child_nodes(node))
    return found


def import_graph(directory: Path) -> dict[str, set[str]]:
    """Module name -> the nxuskit modules it imports, for the client at ``directory``."""
    names = {path.stem for path in directory.glob("*.py") if path.stem != "__init__"}
    return {
        name: _imported(ast.parse((directory / f"{name}.py").read_text()), names) - {name}
        for name in names
    }


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Each import cycle of ``graph`` once, as the modules on it (depth-first search)."""
    found: list[list[str]] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        state[name] = "open"
        for target in sorted(graph.get(name, ())):
            if state.get(target) == "open":
                found.append([*path[path.index(target) :], target])
            elif target not in state:
                visit(target, [*path, target])
        state[name] = "done"

    for name in sorted(graph):
        if name not in state:
            visit(name, [name])
    return found


def test_the_cycle_check_finds_a_cycle() -> None:
    # Guards the test below: registry <-> config, as main had it before issue 10.
    graph = {"registry": {"config", "paths"}, "config": {"registry"}, "paths": set()}
    assert cycles(graph) == [["config", "registry", "config"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_client_has_no_import_cycle() -> None:
    graph = import_graph(CLIENT)
    assert {"registry", "config", "oauth_config", "client", "auth"} <= set(graph)
    assert cycles(graph) == []


def test_config_reading_depends_downwards() -> None:
    graph = import_graph(CLIENT)
    assert "registry" not in graph["config"]
    assert not {"registry", "config"} & graph["oauth_config"]
    assert "config_errors" in graph["config"]


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXUSKIT_")}
    done = subprocess.run(
        [sys.executable, "-c", f"import nxuskit.{module}"],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
