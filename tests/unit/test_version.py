"""The version is written once: ``nxuskit.__version__``. The package metadata (hatch reads
it from that file) and ``nxuskit-cli --version`` take it from there."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from typer.testing import CliRunner

import nxuskit
from nxuskit_cli.app import app

ROOT = Path(__file__).resolve().parents[2]


def test_pyproject_reads_the_version_from_the_client() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    source = ROOT / project["tool"]["hatch"]["version"]["path"]
    assert source.resolve() == Path(nxuskit.__file__).resolve()
    assert re.findall(r'^__version__ = "(.+)"$', source.read_text(), re.M) == [nxuskit.__version__]


def test_the_cli_prints_the_clients_version() -> None:
    result = CliRunner().invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output == f"nxuskit-cli {nxuskit.__version__}\n"
