"""The shared conformance vectors (clients/conformance/vectors.json) hold for nxuskit.aio.

Each case's ``store`` is seeded into a real daemon's file store. A case that must not
ask the daemon runs with no daemon at all (and autostart off): asking would fail it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

import nxuskit
import nxuskit.aio
from nxuskit import registry
from tests.conftest import Sandbox, start_daemon
from tests.integration.test_lifecycle import _seed_store as seed_store
from tests.unit.test_conformance import VECTORS

pytestmark = [pytest.mark.anyio, pytest.mark.timeout(60)]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _seed(box: Sandbox, store: dict[str, dict[str, Any]]) -> None:
    seed_store(box, {name: record["secret"] for name, record in store.items()})
    document = json.loads(box.store_file.read_text())  # each record's method and expiry
    for name, record in store.items():
        document["credentials"][name].update(
            auth_method=record["auth_method"], expires_at=record["expires_at"]
        )
    box.store_file.write_text(json.dumps(document))


async def _outcome(case: dict[str, Any], what: str) -> dict[str, Any] | str:
    async with nxuskit.aio.Client(autostart=False) as client:
        try:
            if what == "resolve":
                return (await client.auth_resolve(case["provider"], case["explicit"])).to_wire()
            return (await client.auth_status(case["provider"], case["explicit"])).to_dict()
        except nxuskit.NxuskitError as error:
            return error.kind


CASES = [("resolve", case) for case in VECTORS["resolve"]] + [
    ("status", case) for case in VECTORS["status"]
]


@pytest.mark.parametrize(("what", "case"), CASES, ids=lambda value: str(value)[:60])
async def test_vector(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch, what: str, case: dict[str, Any]
) -> None:
    for spec in registry.BUILTIN:
        for variable in (spec.env, spec.host_env):
            if variable:
                monkeypatch.delenv(variable, raising=False)
    for variable, value in case["env"].items():
        monkeypatch.setenv(variable, value)
    daemon = None
    if case["asks_daemon"]:
        if case["store"]:
            _seed(sandbox, case["store"])
        daemon = start_daemon(sandbox)
    try:
        got = await _outcome(case, what)
    finally:
        if daemon is not None:
            daemon.stop()
    expect = case["expect"]
    if "error" in expect:
        assert got == expect["error"], case["case"]
    else:
        assert isinstance(got, dict), f"{case['case']}: raised {got}"
        assert {key: got[key] for key in expect} == expect, case["case"]
