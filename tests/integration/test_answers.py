"""A real daemon's answer to every method decodes with its shape in ``nxuskit.answers``.

Each method of ``nxuskit.protocol.PARAMS`` is called over a raw connection (no client
library in between), with a config.toml that has an OAuth provider on the session's
oidc-provider and a broken entry, so that the answers carry every kind of field: a
login's ``revoked``, ``daemon.status``'s ``logins``, ``provider.list``'s ``config`` and a
broken entry's ``error``. Every result must decode with ``RESULTS[method].from_wire`` and
carry no field its shape lacks (a field the shapes do not know would be silently dropped
by every client).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from nxuskit import protocol
from nxuskit.answers import RESULTS, Answer, LoginPending, LoginResult
from tests.conftest import Daemon, Sandbox
from tests.integration.oauth_support import AuthServer, Browser, run_auth_server
from tests.integration.openbao import WRITE_POLICY, Bao, start_dev_server, team_table
from tests.integration.wire import Wire, connect

pytestmark = pytest.mark.timeout(120)
BROKEN = "[providers.beta]\nenv = 7\n"


@pytest.fixture(scope="session")
def auth_server() -> Iterator[AuthServer]:
    """oidc-provider on loopback for the whole session (see oauth_support)."""
    yield from run_auth_server()


@pytest.fixture
def openbao(sandbox: Sandbox) -> Iterator[Bao]:
    """A real OpenBao dev server for the team methods (tests/integration/openbao.py)."""
    (sandbox.root / "bao").mkdir()
    server = start_dev_server(sandbox.root / "bao")
    try:
        server.policy("nxuskit-write", WRITE_POLICY)
        yield server
    finally:
        server.kill()


@pytest.fixture
def browser(auth_server: AuthServer) -> Iterator[Browser]:
    agent = Browser(auth_server)
    try:
        yield agent
    finally:
        agent.close()


def wire_fields(shape: type[Answer]) -> set[str]:
    names = shape._wire_names
    return {names.get(name, name) for name, _ in shape._fields}


def nested_extra(value: object, shape: type[Answer]) -> list[str]:
    """Field names in ``value`` that ``shape`` (and its nested shapes) do not have."""
    assert isinstance(value, dict)
    extra = sorted(set(value) - wire_fields(shape))
    decoded = shape.from_wire(value)
    for name, _ in shape._fields:
        inner = getattr(decoded, name)
        items = inner if isinstance(inner, list) else [inner]
        raw = value.get(shape._wire_names.get(name, name))
        raws = raw if isinstance(raw, list) else [raw]
        for item, raw_item in zip(items, raws, strict=False):
            if isinstance(item, Answer):
                extra += [f"{name}.{field}" for field in nested_extra(raw_item, type(item))]
    return extra


class Checker:
    """Calls methods and checks each result against its shape."""

    def __init__(self, wire: Wire) -> None:
        self.wire = wire
        self.called: set[str] = set()

    def call(self, method: str, params: dict[str, Any] | None = None) -> Answer:
        answer = self.wire.request(method, params or {})
        assert "result" in answer, answer
        result = answer["result"]
        shape = RESULTS[method]
        if method == protocol.LOGIN_WAIT and result.get("status") == "pending":
            shape = LoginPending  # login_wait's answer before the login ended
        decoded = shape.from_wire(result, method)
        assert nested_extra(result, shape) == [], method
        assert decoded.to_wire() == result  # nothing lost or added on the way back
        self.called.add(method)
        return decoded


def test_every_method_answers_with_its_shape(
    sandbox: Sandbox, daemon: Daemon, auth_server: AuthServer, browser: Browser, openbao: Bao
) -> None:
    sandbox.write_config(auth_server.config() + BROKEN + team_table(openbao.address))
    with connect(sandbox.socket_path, timeout=30) as wire:
        check = Checker(wire)
        check.call(protocol.HELLO, {"protocol": 1, "client": "test"})
        check.call(protocol.SET_CREDENTIAL, {"provider": "openai", "secret": "sk-shape-71c2"})
        check.call(protocol.RESOLVE, {"provider": "openai"})
        check.call(protocol.RESOLVE, {"provider": "ollama"})
        statuses = check.call(protocol.STATUS)
        assert [entry.error for entry in statuses.providers if entry.status == "config_invalid"]
        assert all(entry.display_name for entry in statuses.providers)
        listed = check.call(protocol.PROVIDER_LIST)
        assert listed.config is not None
        assert [entry.error for entry in listed.providers if entry.name == "beta"]
        check.call(protocol.DAEMON_LOCK)
        check.call(protocol.STORE_MIGRATE, {"to": "file"})
        check.call(protocol.REMOVE_CREDENTIAL, {"provider": "openai"})

        start = check.call(protocol.LOGIN_START, {"provider": "acme"})
        pending = check.call(protocol.LOGIN_WAIT, {"login_id": start.login_id, "timeout": 0})
        assert isinstance(pending, LoginPending)
        page = browser.callback(browser.authorize(start.authorization_url))
        assert page.status_code == 200, page.text
        done = check.call(protocol.LOGIN_WAIT, {"login_id": start.login_id, "timeout": 20})
        assert isinstance(done, LoginResult)
        check.call(protocol.REPORT_INVALID, {"provider": "acme"})
        again = check.call(protocol.LOGIN_START, {"provider": "acme"})
        assert again.revoked is True  # the login above was revoked before this one began
        check.call(protocol.DAEMON_STATUS)  # logins: one running, one finished
        check.call(protocol.LOGIN_CANCEL, {"login_id": again.login_id})
        check.call(protocol.LOGOUT, {"provider": "acme"})
        trail = check.call(protocol.AUDIT_QUERY, {"provider": "acme", "limit": 100})
        assert trail.entries  # so that the entries' fields are checked too

        token = openbao.create_token("-policy=nxuskit-write")
        check.call(protocol.TEAM_LOGIN, {"secret": token})
        check.call(protocol.TEAM_SET_CREDENTIAL, {"provider": "groq", "secret": "sk-shape-5d1e"})
        team = check.call(protocol.STATUS, {"provider": "groq"})  # with where the key came from
        assert team.providers[0].team is not None
        assert team.team is not None
        check.call(protocol.RESOLVE, {"provider": "groq"})
        check.call(protocol.TEAM_STATUS)
        assert check.call(protocol.DAEMON_STATUS).team is not None
        check.call(protocol.TEAM_LOGOUT)
    assert check.called == set(protocol.PARAMS)
