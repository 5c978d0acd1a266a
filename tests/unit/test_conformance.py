"""The shared conformance vectors (clients/conformance/) hold for the Python client.

The same files are run by the Go, Rust and TypeScript clients' own suites: precedence
and name matching are defined there once, for every language. ``providers.json`` is the
built-in registry those clients embed; it is generated from ``nxuskit.providers``
(regenerate with ``python tests/unit/test_conformance.py``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from nxuskit import answers, errors, provider, registry
from nxuskit.client import Client

ROOT = Path(__file__).resolve().parents[2] / "clients" / "conformance"
VECTORS = json.loads((ROOT / "vectors.json").read_text())
PROVIDER_FIELDS = ("name", "display_name", "aliases", "env", "host_env", "default_host",
                   "auth_methods", "api_path")  # fmt: skip

pytestmark = pytest.mark.usefixtures("client_env")


def builtin_table() -> list[dict[str, Any]]:
    """What providers.json must hold."""
    return [
        {field: spec.to_wire()[field] for field in PROVIDER_FIELDS} for spec in registry.BUILTIN
    ]


def test_providers_json_is_the_builtin_registry() -> None:
    shipped = json.loads((ROOT / "providers.json").read_text())
    assert shipped == {"format": 1, "providers": builtin_table()}, (
        "clients/conformance/providers.json is stale: run python tests/unit/test_conformance.py"
    )


class StoreDaemon:
    """An in-memory daemon that answers from a vector's ``store``."""

    def __init__(self, store: dict[str, dict[str, Any]]) -> None:
        self.store = store
        self.asked: list[str] = []

    def close(self) -> None:
        pass

    def call(self, method: str, params: dict[str, Any]) -> Any:
        self.asked.append(method)
        name = params.get("provider")
        record = self.store.get(name) if name else None
        source = None
        if record is not None:
            source = "oauth" if record["auth_method"] == "oauth" else "store"
        if method == "auth.resolve":
            if record is None:
                raise errors.NotAuthenticated(f"no credential for {name}")
            return answers.Resolution(
                name, record["secret"], source, record["auth_method"], record["expires_at"]
            ).to_wire()
        assert method == "auth.status"
        spec = registry.load().get(name)
        entry = answers.AuthStatus(
            spec.name,
            "authenticated" if record else "not_authenticated",
            source,
            list(spec.auth_methods),
            record["auth_method"] if record else None,
            record["expires_at"] if record else None,
        )
        store = answers.StoreInfo("file", "file (test)", "test")
        return answers.Statuses([entry], store).to_wire()


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for spec in registry.BUILTIN:
        for variable in (spec.env, spec.host_env):
            if variable:
                monkeypatch.delenv(variable, raising=False)
    return monkeypatch


def _run(case: dict[str, Any], environment: pytest.MonkeyPatch, what: str) -> None:
    for variable, value in case["env"].items():
        environment.setenv(variable, value)
    daemon = StoreDaemon(case["store"])
    client = Client(connect=lambda path, timeout: daemon)
    expect = case["expect"]
    got: dict[str, Any] | str
    try:
        if what == "resolve":
            got = client.auth_resolve(case["provider"], case["explicit"]).to_wire()
        else:
            got = client.auth_status(case["provider"], case["explicit"]).to_dict()
    except errors.NxuskitError as error:
        got = error.kind
    if "error" in expect:
        assert got == expect["error"], case["case"]
    else:
        assert isinstance(got, dict), f"{case['case']}: raised {got}"
        assert {key: got[key] for key in expect} == expect, case["case"]
    assert bool(daemon.asked) == case["asks_daemon"], case["case"]


@pytest.mark.parametrize("case", VECTORS["names"], ids=lambda case: repr(case["given"]))
def test_names(case: dict[str, Any]) -> None:
    found = registry.load().find(case["given"])
    assert (found.name if found else None) == case.get("provider")


@pytest.mark.parametrize("case", VECTORS["resolve"], ids=lambda case: case["case"])
def test_resolve(case: dict[str, Any], environment: pytest.MonkeyPatch) -> None:
    _run(case, environment, "resolve")


@pytest.mark.parametrize("case", VECTORS["status"], ids=lambda case: case["case"])
def test_status(case: dict[str, Any], environment: pytest.MonkeyPatch) -> None:
    _run(case, environment, "status")


@pytest.mark.parametrize("case", VECTORS["base_url"], ids=lambda c: f"{c['provider']}{c['env']}")
def test_base_url(case: dict[str, Any]) -> None:
    spec = registry.load().get(case["provider"])
    assert provider.base_url(spec, case["env"]) == case["expect"]


if __name__ == "__main__":  # regenerate providers.json
    text = json.dumps({"format": 1, "providers": builtin_table()}, indent=1) + "\n"
    (ROOT / "providers.json").write_text(text)
    print(f"wrote {ROOT / 'providers.json'} ({len(registry.BUILTIN)} providers)")
