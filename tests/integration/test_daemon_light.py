"""A daemon without a team store loads nothing of the team layer: no hvac, no requests
(issue 13: its start-up cost does not grow for users without a ``[team]``).

As tests/unit/test_client_light.py does for the client, a fresh interpreter runs the
real daemon; it serves a set, a resolve and a status, is stopped, and writes its
``sys.modules`` as it exits. With a ``[team]`` the same run does load hvac: the check can
tell the difference.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

from nxuskit import auth_resolve, auth_status_all
from tests.conftest import Sandbox, run_cli, socket_answers
from tests.integration.conftest import wait_until
from tests.integration.openbao import free_port, team_table

TEAM_MODULES = {"hvac", "requests", "urllib3", "nxuskitd.team.service", "nxuskitd.team.vault",
                "nxuskitd.team.session", "nxuskitd.team.settings"}  # fmt: skip

_RUN_AND_DUMP = (
    "import atexit, json, os, runpy, sys\n"
    "out = os.environ['MODULES_OUT']\n"
    "atexit.register(lambda: open(out, 'w').write(json.dumps(sorted(sys.modules))))\n"
    "sys.argv = ['nxuskitd', *sys.argv[1:]]\n"
    "runpy.run_module('nxuskitd', run_name='__main__')\n"
)


def modules_of_a_daemon_run(box: Sandbox) -> set[str]:
    """The modules a real daemon had loaded when it stopped, after serving a set, a
    resolve and a status of every provider."""
    out = box.root / "modules.json"
    with open(box.root / "nxuskitd.log", "ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-c", _RUN_AND_DUMP, "--store", "file"],
            env={**box.env, "MODULES_OUT": str(out)},
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
        )  # fmt: skip
    try:
        assert wait_until(lambda: socket_answers(box.socket_path), timeout=20)
        assert (
            run_cli(box, "provider", "set", "openai", input="sk-light-0123456789").returncode == 0
        )
        assert auth_resolve("openai").source == "store"
        assert auth_status_all()[0].source == "store"
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0
    return set(json.loads(out.read_text()))


def test_a_daemon_without_a_team_loads_no_team_module(sandbox: Sandbox) -> None:
    loaded = modules_of_a_daemon_run(sandbox)
    assert "nxuskitd.credentials" in loaded
    assert not loaded & TEAM_MODULES


def test_a_daemon_with_a_team_loads_it(sandbox: Sandbox) -> None:
    sandbox.write_config(team_table(f"http://127.0.0.1:{free_port()}"))  # nothing listens
    loaded = modules_of_a_daemon_run(sandbox)
    assert {"hvac", "requests", "nxuskitd.team.service"} <= loaded
