"""One daemon, every client: a key set by any of the Python, Go, Rust and TypeScript clients
(or the CLI) is resolved by all the others, and a key removed by one is gone for all.

Each client's ``probe`` program (clients/*/) speaks for it: ``probe set P S``,
``probe resolve P`` (a JSON line with secret and source), ``probe remove P``. The
toolchains are those the clients' own suites use; without one the test skips, except
under CI (``CI=true``), where a missing toolchain is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Daemon, Sandbox, run_cli

CLIENTS = Path(__file__).resolve().parents[2] / "clients"
_PYTHON_PROBE = """
import json, sys
import nxuskit
command, provider = sys.argv[1], sys.argv[2]
if command == "set":
    nxuskit.auth_set_credential(provider, sys.argv[3])
elif command == "resolve":
    resolution = nxuskit.auth_resolve(provider)
    print(json.dumps({"secret": resolution.secret, "source": resolution.source}))
else:
    print(json.dumps({"removed": nxuskit.auth_remove_credential(provider)}))
"""


def _tool(name: str) -> str:
    found = shutil.which(name) or (
        os.path.expanduser(f"~/.cargo/bin/{name}") if name == "cargo" else None
    )
    if found is None or not os.path.exists(found):
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is not installed; under CI a missing toolchain is a failure")
        pytest.skip(f"{name} is not installed (packaging/install-test-deps.sh installs it)")
    return found


@pytest.fixture(scope="module")
def probes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    """The command that runs each client's probe (built once for the module)."""
    out = tmp_path_factory.mktemp("probes")
    env = {**os.environ, "GOPROXY": "off", "GOFLAGS": "-mod=readonly"}
    go = _tool("go")
    subprocess.run([go, "build", "-o", str(out / "go-probe"), "./cmd/probe"],
                   cwd=CLIENTS / "go", env=env, check=True, timeout=300)  # fmt: skip
    cargo = _tool("cargo")
    target = out / "rust-target"
    subprocess.run([cargo, "build", "--offline", "--release", "--bin", "probe",
                    "--target-dir", str(target)],
                   cwd=CLIENTS / "rust", env=env, check=True, timeout=600)  # fmt: skip
    node = _tool("node")
    return {
        "python": [sys.executable, "-c", _PYTHON_PROBE],
        "go": [str(out / "go-probe")],
        "rust": [str(target / "release" / "probe")],
        "typescript": [node, str(CLIENTS / "typescript" / "bin" / "probe.js")],
    }


def _probe(command: list[str], box: Sandbox, *args: str) -> dict[str, object]:
    done = subprocess.run([*command, *args], env=box.env, capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, f"{command} {args}: {done.stderr}"
    return json.loads(done.stdout) if done.stdout.strip() else {}


@pytest.mark.timeout(900)
def test_a_key_set_by_any_client_is_seen_by_every_other_and_removed_for_all(
    sandbox: Sandbox, daemon: Daemon, probes: dict[str, list[str]]
) -> None:
    for writer, command in probes.items():
        secret = f"sk-from-{writer}-0123456789"
        _probe(command, sandbox, "set", "openai", secret)
        for reader, other in probes.items():
            got = _probe(other, sandbox, "resolve", "gpt")
            assert got == {"secret": secret, "source": "store"}, f"{writer} -> {reader}"
        status = run_cli(sandbox, "provider", "status", "openai", "--json")
        assert json.loads(status.stdout)[0]["source"] == "store", status.stderr
        remover = list(probes)[(list(probes).index(writer) + 1) % len(probes)]
        assert _probe(probes[remover], sandbox, "remove", "openai") == {"removed": True}
        for reader, other in probes.items():
            done = subprocess.run(
                [*other, "resolve", "openai"],
                env=sandbox.env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert done.returncode != 0, f"{reader} still resolves what {remover} removed"
            assert secret not in done.stdout + done.stderr
    # and the CLI's own writes reach every client
    run_cli(sandbox, "provider", "set", "claude", input="sk-ant-from-the-cli\n")
    for reader, other in probes.items():
        got = _probe(other, sandbox, "resolve", "anthropic")
        assert got == {"secret": "sk-ant-from-the-cli", "source": "store"}, reader
