"""The TypeScript client's own suite (``node --test`` in clients/typescript) against this
checkout's nxuskitd.

The suite starts its daemons itself, in private sandboxes, from ``NXUSKITD``: here the
nxuskitd installed beside this interpreter, with nxuskit-cli (its autostart) and python
(its cross-check with the Python client) beside it. Its dev dependencies (the
TypeScript compiler, for the dist/ and type checks) are installed with ``npm ci`` when
missing, as ``make client-typescript`` does. Without Node the test skips, except in CI
(CI=true), where it fails.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "typescript"


def _need(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"the TypeScript client's tests need {reason}; CI must provide it")
    pytest.skip(f"the TypeScript client's tests need {reason}")


def _node_and_npm() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _need("Node.js 20+ and npm (apt-get install nodejs npm)")
    assert node is not None
    assert npm is not None
    if not all(
        (CLIENT_DIR / "node_modules" / name).is_dir() for name in ("typescript", "prettier")
    ):
        done = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=CLIENT_DIR,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            _need(f"npm ci to succeed in {CLIENT_DIR}: {done.stderr.strip()[-500:]}")
    return node, npm


@pytest.mark.timeout(600)
def test_the_typescript_client_passes_its_own_suite() -> None:
    node, _npm = _node_and_npm()
    scripts = Path(sys.executable).parent
    env = {
        **os.environ,
        "NXUSKITD": str(scripts / "nxuskitd"),
        "PATH": f"{scripts}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    files = sorted(str(path.relative_to(CLIENT_DIR)) for path in CLIENT_DIR.glob("test/*.test.mjs"))
    assert files, f"no tests in {CLIENT_DIR / 'test'}"
    done = subprocess.run(
        [node, "--test", *files],
        cwd=CLIENT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=540,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    passed = re.search(r"^# pass (\d+)$", output, re.MULTILINE)
    assert passed is not None, output
    assert int(passed.group(1)) > 0, output
    assert re.search(r"^# fail 0$", output, re.MULTILINE), output
