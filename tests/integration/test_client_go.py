"""The Go client (clients/go): its own suite (``go test``) against this checkout's nxuskitd,
and Go and Python clients starting one daemon together.

``go test`` makes its own sandboxes and starts the daemon named by ``NXUSKITD``; it covers
the conformance vectors, set/resolve/status/remove, precedence, errors, reconnecting
after a restart, the peer check against another uid, and autostart. Without Go these
tests skip, except under CI (``CI=true``), where a missing toolchain is a failure.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.conftest import nxuskitd_pids

GO_CLIENT = Path(__file__).resolve().parents[2] / "clients" / "go"
NXUSKITD = Path(sys.executable).parent / "nxuskitd"


def go_program() -> str:
    """The go command, or skip (fail under CI) when it is not installed."""
    go = shutil.which("go")
    if go is None:
        reason = "go is not installed: run packaging/install-test-deps.sh (Debian's golang-go)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; under CI a missing toolchain is a failure")
        pytest.skip(reason)
    return go


def go_env() -> dict[str, str]:
    # Standard library only: nothing may be fetched from a module proxy.
    return {**os.environ, "NXUSKITD": str(NXUSKITD), "GOPROXY": "off", "GOFLAGS": "-mod=readonly"}


@pytest.mark.timeout(600)
def test_the_go_clients_own_suite() -> None:
    done = subprocess.run(
        [go_program(), "test", "-count=1", "./..."],
        cwd=GO_CLIENT, env=go_env(), capture_output=True, text=True, timeout=580, check=False,
    )  # fmt: skip
    assert done.returncode == 0, f"go test failed:\n{done.stdout}\n{done.stderr}"
    assert "ok  \tgithub.com/nxus-SYSTEMS/nxuskit-go\t" in done.stdout, done.stdout


_AT = textwrap.dedent(
    """
    import json, os, sys, time
    import nxuskit
    go = float(sys.argv[1])
    while time.time() < go:
        time.sleep(0.001)
    if sys.argv[2] == "python":
        resolution = nxuskit.auth_resolve("openai")
        print(json.dumps({"secret": resolution.secret, "source": resolution.source}))
    else:
        os.execv(sys.argv[2], sys.argv[2:])
    """
)


@pytest.mark.timeout(180)
def test_go_and_python_clients_together_autostart_exactly_one_daemon(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    probe = tmp_path / "probe"
    built = subprocess.run(
        [go_program(), "build", "-o", str(probe), "./cmd/probe"],
        cwd=GO_CLIENT, env=go_env(), capture_output=True, text=True, timeout=170, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    sandbox.data_dir.mkdir(parents=True, mode=0o700)
    record = {"secret": "sk-shared", "auth_method": "api_key", "updated_at": 1.0}
    document = {"format": 1, "credentials": {"openai": record}}
    fd = os.open(sandbox.store_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(document, handle)
    env = {key: value for key, value in sandbox.env.items() if key != "NXUSKIT_AUTOSTART"}
    env["NXUSKIT_STORE"] = "file"
    # the Go client starts the nxuskitd on PATH
    env["PATH"] = f"{NXUSKITD.parent}:{env.get('PATH', '')}"
    go = time.time() + 1.5  # every client is past its start-up before the first one connects
    go_client = (str(probe), "resolve", "openai")
    clients = [
        subprocess.Popen(
            [sys.executable, "-c", _AT, str(go), *(("python",) if i % 2 else go_client)],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )
        for i in range(8)
    ]  # fmt: skip
    results = [client.communicate(timeout=60) for client in clients]
    for client, (_, err) in zip(clients, results, strict=True):
        assert client.returncode == 0, err
    answers = [json.loads(out) for out, _ in results]
    assert answers == [{"secret": "sk-shared", "source": "store"}] * 8
    assert len(nxuskitd_pids(sandbox)) == 1, "Go and Python clients started more than one daemon"
    log = (sandbox.root / "state" / "nxuskit" / "nxuskitd.log").read_text()
    assert log.count("serving unix:") == 1, log
    assert "cannot start" not in log, "clients started extra daemons that lost the race"


@pytest.mark.timeout(180)
def test_the_go_probes_hot_loop_is_answered_from_the_client_cache(
    sandbox: Sandbox, daemon: Daemon, tmp_path: Path
) -> None:
    probe = tmp_path / "probe"
    built = subprocess.run(
        [go_program(), "build", "-o", str(probe), "./cmd/probe"],
        cwd=GO_CLIENT, env=go_env(), capture_output=True, text=True, timeout=170, check=False,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    assert run_cli(sandbox, "provider", "set", "openai", input="sk-hot\n").returncode == 0

    def hot(count: int, **extra: str) -> dict[str, float]:
        done = subprocess.run(
            [str(probe), "hot", "openai", str(count)], env={**sandbox.env, **extra},
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        figures: dict[str, float] = json.loads(done.stdout)
        return figures

    cached = hot(500)
    assert (cached["n"], cached["asked"]) == (500, 0)  # the daemon's audit trail saw none
    assert hot(20, NXUSKIT_CLIENT_CACHE="off")["asked"] == 20
