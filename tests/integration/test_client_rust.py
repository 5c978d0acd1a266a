"""The Rust client's own suite (``cargo test`` in clients/rust) against this checkout's nxuskitd.

The crate's tests start real daemons in private sandboxes themselves (NXUSKITD names the
program: the one installed beside this interpreter), run the shared conformance vectors,
and check trust and autostart (as uid 65534 when run as root). Without cargo the test is
skipped, except under CI (``CI=true``), where a missing toolchain is a failure:
packaging/install-test-deps.sh installs Debian's cargo when there is none.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CRATE = Path(__file__).resolve().parents[2] / "clients" / "rust"

# Compiling the crate and its tests takes a while on a loaded 2-core machine.
pytestmark = pytest.mark.timeout(900)


def cargo() -> str | None:
    """cargo on PATH, else rustup's in ~/.cargo/bin (CI's PATH may lack it)."""
    found = shutil.which("cargo")
    if found:
        return found
    home = Path(os.environ.get("CARGO_HOME") or Path.home() / ".cargo")
    candidate = home / "bin" / "cargo"
    return str(candidate) if os.access(candidate, os.X_OK) else None


def test_the_rust_client_suite_passes_against_this_nxuskitd() -> None:
    program = cargo()
    if program is None:
        if os.environ.get("CI") == "true":
            pytest.fail("cargo is missing: run packaging/install-test-deps.sh (Debian's cargo)")
        pytest.skip("cargo is not installed (apt-get install cargo)")
    env = {**os.environ, "NXUSKITD": str(Path(sys.executable).parent / "nxuskitd")}
    env["PATH"] = f"{Path(program).parent}{os.pathsep}{env.get('PATH', '')}"
    env["CARGO_TERM_COLOR"] = "never"
    done = subprocess.run(
        [program, "test", "--offline", "--no-fail-fast"],
        cwd=CRATE,
        env=env,
        capture_output=True,
        text=True,
        timeout=850,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-20000:]
    passed = sum(int(count) for count in re.findall(r"test result: ok\. (\d+) passed", output))
    assert passed >= 30, f"only {passed} Rust tests ran:\n{output[-5000:]}"
