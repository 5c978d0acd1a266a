"""What a fresh machine meets: the base install (the client alone, with its programs saying
which extra they need) and apt-get waiting for another apt run's lock.

Both run the real tools offline: the wheel is built without build isolation and installed
with ``--no-deps --no-index``; apt-get updates an empty, private package list.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import Sandbox

ROOT = Path(__file__).resolve().parents[2]
APT_GET = shutil.which("apt-get")


def _run(*argv: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(arg) for arg in argv], env=env, capture_output=True, text=True, timeout=300,
        check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def base_install(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new venv with the nxuskit wheel and nothing else: ``pip install nxuskit`` offline.
    Yields the venv's bin directory."""
    root = tmp_path_factory.mktemp("base-install")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON"))}
    built = _run(sys.executable, "-m", "build", "--wheel", "--no-isolation",
                 "--outdir", root / "dist", ROOT, env=env)  # fmt: skip
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = (root / "dist").glob("nxuskit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        metadata = next(
            archive.read(name).decode()
            for name in archive.namelist()
            if name.endswith(".dist-info/METADATA")
        )
    requirements = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    assert requirements, metadata
    assert all("extra ==" in line for line in requirements), requirements
    made = _run(sys.executable, "-m", "venv", root / "venv", env=env)
    assert made.returncode == 0, made.stderr
    bin_dir = root / "venv" / "bin"
    installed = _run(bin_dir / "python", "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-index", wheel, env=env)  # fmt: skip
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return bin_dir


def _clean(box: Sandbox) -> dict[str, str]:
    return {k: v for k, v in box.env.items() if not k.startswith("PYTHON")}


@pytest.mark.timeout(300)
def test_the_base_install_is_the_client_alone(base_install: Path, sandbox: Sandbox) -> None:
    env = {**_clean(sandbox), "OPENAI_API_KEY": "sk-base-install-0123"}
    probe = (
        "import importlib.util, nxuskit; "
        "resolution = nxuskit.auth_resolve('openai'); "
        "others = ('anyio', 'typer', 'rich', 'keyring', 'msgspec', 'authlib', 'httpx2'); "
        "print(resolution.source, [name for name in others if importlib.util.find_spec(name)])"
    )
    client = _run(base_install / "python", "-c", probe, env=env)
    assert client.returncode == 0, client.stderr
    assert client.stdout.split() == ["env", "[]"]


@pytest.mark.timeout(300)
@pytest.mark.parametrize(
    ("program", "args", "status", "extra"),
    [
        ("nxuskitd", ["--version"], 1, "pip install 'nxuskit[daemon]'"),
        ("nxuskit-cli", ["--help"], 69, "pip install 'nxuskit[cli]'"),
        ("nxuskit-cli", ["provider", "list"], 69, "pip install 'nxuskit[cli]'"),
    ],
)
def test_each_program_names_the_extra_it_needs(
    base_install: Path, sandbox: Sandbox, program: str, args: list[str], status: int, extra: str
) -> None:
    done = _run(base_install / program, *args, env=_clean(sandbox))
    assert done.returncode == status
    assert done.stdout == ""
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert extra in done.stderr
    assert "not installed" in done.stderr


@pytest.mark.skipif(APT_GET is None, reason="apt-get is not installed (not a Debian-like system)")
def test_apt_get_waits_while_another_apt_holds_the_lists_lock(tmp_path: Path) -> None:
    """`apt-get update` fails at once on the package lists' lock (apt 2.6 ignores
    DPkg::Lock::Timeout there): packaging/apt-get-patiently.sh waits. The update runs for
    real, on a private, empty set of lists and sources, so nothing of the system changes."""
    lists, parts, cache = tmp_path / "lists", tmp_path / "sources.list.d", tmp_path / "cache"
    for directory in (lists / "partial", parts, cache / "archives" / "partial"):
        directory.mkdir(parents=True)
    lock = os.open(lists / "lock", os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.lockf(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the kind of lock apt takes
        process = subprocess.Popen(
            ["bash", str(ROOT / "packaging" / "apt-get-patiently.sh"),
             "-o", f"Dir::State::Lists={lists}", "-o", "Dir::Etc::SourceList=/dev/null",
             "-o", f"Dir::Etc::SourceParts={parts}", "-o", f"Dir::Cache={cache}", "update"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        try:
            assert process.stderr is not None
            first = process.stderr.readline()  # apt-get met the lock: it waits, or it failed
            assert "waiting" in first, first + process.stderr.read()
            assert process.poll() is None
        except BaseException:
            process.kill()
            process.communicate(timeout=30)
            raise
    finally:
        os.close(lock)  # the other apt run is over
    _out, errors = process.communicate(timeout=120)
    assert process.returncode == 0, errors
