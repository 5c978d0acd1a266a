"""Figure 9: each first-party client's warm resolve round trip, beside Python's and
ssh-agent's, measured the same way in the same run; 9b: each client's repeated resolve
answered from its cache (docs/protocol.md section 13), ``probe hot``.

Every client's ``probe bench openai N`` makes N warm resolves over one connection after a
warm-up and prints its p50 and p99 in microseconds; Python's figure comes from the same
loop run by this suite's interpreter in a child process, ssh-agent's from the suite's own
agent client. The processes are left where the scheduler puts them (figure 1 shows what
pinning changes). A client whose toolchain is missing is reported as such, not failed.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import harness

CLIENTS = Path(__file__).resolve().parents[1] / "clients"
WARM_UP = 2000  # V8 and Go's scheduler settle after a few thousand calls

_PYTHON_BENCH = """
import json, sys, time
import nxuskit
n = int(sys.argv[1])
for _ in range(min(n, 2000)):
    nxuskit.auth_resolve("openai")
took = []
for _ in range(n):
    start = time.perf_counter_ns()
    nxuskit.auth_resolve("openai")
    took.append((time.perf_counter_ns() - start) / 1000)
took.sort()
print(json.dumps({"n": n, "p50_us": took[n // 2], "p99_us": took[int(n * 0.99)]}))
"""


_PYTHON_HOT = """
import json, sys, time
import nxuskit
n = int(sys.argv[1])
client = nxuskit.Client()
asked = [0]
call = client.call
def counted(method, params):
    asked[0] += 1
    return call(method, params)
for _ in range(min(n, 2000)):
    client.auth_resolve("openai")
client.call = counted
took = []
for _ in range(n):
    start = time.perf_counter_ns()
    client.auth_resolve("openai")
    took.append((time.perf_counter_ns() - start) / 1000)
took.sort()
print(json.dumps({"n": n, "p50_us": took[n // 2], "p99_us": took[int(n * 0.99)],
                  "asked": asked[0]}))
"""


def _tool(name: str) -> str | None:
    found = shutil.which(name)
    if found is None and name == "cargo":
        candidate = os.path.expanduser("~/.cargo/bin/cargo")
        found = candidate if os.path.exists(candidate) else None
    return found


def build_probes(out: Path) -> dict[str, list[str] | str]:
    """Each language's probe command, or why it is missing."""
    env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    probes: dict[str, list[str] | str] = {"Python": [sys.executable, "-c", _PYTHON_BENCH]}
    go, cargo, node = _tool("go"), _tool("cargo"), _tool("node")
    if go:
        subprocess.run([go, "build", "-o", str(out / "go-probe"), "./cmd/probe"],
                       cwd=CLIENTS / "go", env=env, check=True, capture_output=True)  # fmt: skip
        probes["Go"] = [str(out / "go-probe"), "bench"]
    else:
        probes["Go"] = "go is not installed"
    if cargo:
        subprocess.run([cargo, "build", "--offline", "--release", "--bin", "probe"],
                       cwd=CLIENTS / "rust", env=env, check=True, capture_output=True)  # fmt: skip
        probes["Rust"] = [str(CLIENTS / "rust" / "target" / "release" / "probe"), "bench"]
    else:
        probes["Rust"] = "cargo is not installed"
    if node:
        probes["TypeScript"] = [node, str(CLIENTS / "typescript" / "bin" / "probe.js"), "bench"]
    else:
        probes["TypeScript"] = "node is not installed"
    return probes


def _run(command: list[str], box: harness.Sandbox, calls: int) -> dict[str, float]:
    args = [str(calls)] if command[-1] not in ("bench", "hot") else ["openai", str(calls)]
    done = subprocess.run([*command, *args], env=box.env, capture_output=True, text=True,
                          check=True, timeout=600)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def client_rows(
    box: harness.Sandbox, agent: str, rounds: int, calls: int
) -> list[tuple[str, str, str, str, str, bool | None]]:
    """p50 of each client against Python's and ssh-agent's, medians over ``rounds``."""
    with tempfile.TemporaryDirectory(prefix="nxb-probes-") as out:
        probes = build_probes(Path(out))
        p50: dict[str, list[float]] = {name: [] for name in probes}
        agent_p50: list[float] = []
        client = harness.AgentClient(agent)
        for _ in range(rounds):
            for name, command in probes.items():
                if isinstance(command, list):
                    p50[name].append(_run(command, box, calls)["p50_us"])
            agent_p50.append(harness.percentile(harness.latencies(client.identities, calls), 0.5))
        client.close()
    python = statistics.median(p50["Python"])
    agent_median = statistics.median(agent_p50)
    rows: list[tuple[str, str, str, str, str, bool | None]] = []
    for name, command in probes.items():
        label = f"9. {name} client warm resolve p50 (us) vs Python client / ssh-agent"
        if isinstance(command, str):
            rows.append((label, command, "-", "-", "(report)", None))
            continue
        ours = statistics.median(p50[name])
        rows.append(
            (
                label,
                f"{ours:.1f}",
                f"{python:.1f} / {agent_median:.1f}",
                f"{ours / python:.2f}x / {ours / agent_median:.2f}x",
                "(report)",
                None,
            )
        )
    return rows


def _hot(command: list[str]) -> list[str]:
    if command[-1] == "bench":
        return [*command[:-1], "hot"]
    return [sys.executable, "-c", _PYTHON_HOT]


def cached_rows(
    box: harness.Sandbox, rounds: int, calls: int
) -> list[tuple[str, str, str, str, str, bool | None]]:
    """9b: each client's repeated resolve from its cache, p50 and how many reached the
    daemon, beside its own round trip's p50 (the sandbox turns caches off; on here)."""
    cached = harness.Sandbox(box.root, {**box.env, "NXUSKIT_CLIENT_CACHE": "1"})
    rows: list[tuple[str, str, str, str, str, bool | None]] = []
    with tempfile.TemporaryDirectory(prefix="nxb-probes-") as out:
        for name, command in build_probes(Path(out)).items():
            label = f"9b. {name} client cached resolve p50 (us) vs its round trip"
            if isinstance(command, str):
                rows.append((label, command, "-", "-", "(report)", None))
                continue
            try:
                hot = [_run(_hot(command), cached, calls) for _ in range(rounds)]
            except subprocess.CalledProcessError:  # a probe without `hot`: no cache there
                rows.append((label, "no `probe hot`", "-", "-", "(report)", None))
                continue
            trip = statistics.median(_run(command, box, calls)["p50_us"] for _ in range(rounds))
            ours = statistics.median(run["p50_us"] for run in hot)
            asked = max(int(run.get("asked", -1)) for run in hot)
            rows.append((label, f"{ours:.2f} ({asked} asked)", f"{trip:.1f}",
                         f"{ours / trip:.4f}x", "(report)", None))  # fmt: skip
    return rows
