"""The client stays cheap, and the packages depend on each other in one direction only.

Each check runs in a fresh interpreter and looks at ``sys.modules`` afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.unit.conftest import PROVIDER_ENV_VARS

HEAVY = [
    *("anyio", "keyring", "msgspec", "typer", "rich", "authlib", "httpx", "platformdirs"),
    *("nxuskitd", "nxuskit_cli"),
]
# The client is kept off these on purpose: each costs import time in every app.
SLOW_STDLIB = ["typing", "dataclasses", "asyncio", "logging", "subprocess"]


def loaded_after(code: str, env: dict[str, str]) -> set[str]:
    """The top-level package names in sys.modules after running ``code``."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    names = json.loads(done.stdout.strip().splitlines()[-1])
    return {name.split(".")[0] for name in names} | set(names)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    clean = {k: v for k, v in os.environ.items() if k not in PROVIDER_ENV_VARS}
    for name in ("NXUSKIT_SOCKET", "PYTHONSTARTUP", "PYTHONWARNINGS"):
        clean.pop(name, None)
    clean["XDG_CONFIG_HOME"] = str(tmp_path / "config")  # no config.toml
    clean["XDG_RUNTIME_DIR"] = str(tmp_path / "run")
    clean["NXUSKIT_AUTOSTART"] = "0"
    return clean


def test_bare_interpreter_is_a_fair_baseline(env: dict[str, str]) -> None:
    # Guards the checks below: were these already loaded at start-up, they would prove nothing.
    baseline = loaded_after("pass", env)
    assert not baseline & {*HEAVY, *SLOW_STDLIB, "nxuskit"}


def test_import_nxuskit_loads_no_heavy_module(env: dict[str, str]) -> None:
    loaded = loaded_after("import nxuskit", env)
    assert "nxuskit" in loaded
    assert not loaded & set(HEAVY)
    assert not loaded & set(SLOW_STDLIB)


def test_resolving_from_env_loads_no_heavy_module(env: dict[str, str]) -> None:
    code = (
        "import nxuskit\n"
        "r = nxuskit.auth_resolve('openai')\n"
        "assert (r.secret, r.source) == ('sk-light', 'env'), r\n"
        "p = nxuskit.Provider.create('ollama')\n"
        "assert p.base_url == 'http://localhost:11434/v1'\n"
        "s = nxuskit.auth_status('gpt')\n"
        "assert s.source == 'env'\n"
    )
    loaded = loaded_after(code, {**env, "OPENAI_API_KEY": "sk-light"})
    assert not loaded & set(HEAVY)
    assert not loaded & set(SLOW_STDLIB)
    assert "tomllib" not in loaded  # no config.toml: nothing to parse


def test_a_missing_daemon_error_loads_no_heavy_module(env: dict[str, str]) -> None:
    code = (
        "import nxuskit\n"
        "try:\n"
        "    nxuskit.auth_resolve('groq')\n"
        "except nxuskit.DaemonUnavailable:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('expected DaemonUnavailable')\n"
    )
    loaded = loaded_after(code, env)
    assert not loaded & set(HEAVY)


def test_daemon_modules_do_not_import_the_cli(env: dict[str, str]) -> None:
    code = (
        "import pkgutil, importlib, nxuskitd\n"
        "for info in pkgutil.walk_packages(nxuskitd.__path__, 'nxuskitd.'):\n"
        "    importlib.import_module(info.name)\n"
    )
    loaded = loaded_after(code, env)
    assert "nxuskitd.credentials" in loaded
    assert "nxuskit_cli" not in loaded


def test_cli_does_not_import_the_daemon(env: dict[str, str]) -> None:
    if importlib.util.find_spec("nxuskit_cli.app") is None:
        pytest.skip("nxuskit_cli has no app module yet")
    code = (
        "import pkgutil, importlib, nxuskit_cli\n"
        "for info in pkgutil.walk_packages(nxuskit_cli.__path__, 'nxuskit_cli.'):\n"
        "    if info.name != 'nxuskit_cli.__main__':\n"
        "        importlib.import_module(info.name)\n"
    )
    loaded = loaded_after(code, env)
    assert "nxuskit_cli.app" in loaded
    assert "nxuskitd" not in loaded


def test_public_names_load_on_first_use() -> None:
    code = (
        "import sys, nxuskit\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('nxuskit.'))\n"
        "assert loaded == [], loaded\n"
        "for name in nxuskit.__all__: getattr(nxuskit, name)\n"
        "from nxuskit import *\n"
        "assert 'nxuskit.login' in sys.modules\n"
        "try:\n"
        "    nxuskit.no_such_name\n"
        "except AttributeError:\n"
        "    print('ok')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], check=False, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_cli_start_up_loads_no_http_or_tls(env: dict[str, str]) -> None:
    # Every command pays for what the CLI's app imports; http.client and ssl (about a
    # sixth of its start-up) are for `provider verify` alone, which imports them itself.
    loaded = loaded_after("import nxuskit_cli.app", env)
    assert "typer" in loaded
    assert not loaded & {"ssl", "http.client", "urllib.request", "httpx"}
