"""The API key rule end to end (issue 9, item 13): a real daemon refuses what the client
would refuse, so a client in another language gets the same answer, and the CLI does not
quietly drop control characters before the rule sees them.
"""

from __future__ import annotations

import pytest

import nxuskit
from nxuskit import protocol
from nxuskit.client import reset_default
from tests.conftest import Daemon, Sandbox, run_cli
from tests.integration.wire import connect, error_kind

KEY = "sk-rule-7f3a"


@pytest.mark.parametrize(
    "secret", [f"\x1f{KEY}", f"{KEY}\x1c", f"{KEY}\x85", f"sk\x00{KEY}", "\x0b"], ids=repr
)
def test_the_daemon_refuses_control_characters_that_strip_would_drop(
    sandbox: Sandbox, daemon: Daemon, secret: str
) -> None:
    with connect(sandbox.socket_path) as wire:
        answer = wire.request(protocol.SET_CREDENTIAL, {"provider": "openai", "secret": secret})
        assert error_kind(answer) == "invalid_params", answer
        assert "control character U+" in answer["error"]["message"]
        assert KEY not in answer["error"]["message"]
        gone = wire.request(protocol.RESOLVE, {"provider": "openai"})
    assert error_kind(gone) == "not_authenticated"  # nothing was stored


def test_the_daemon_trims_only_ascii_whitespace(sandbox: Sandbox, daemon: Daemon) -> None:
    with connect(sandbox.socket_path) as wire:
        stored = wire.request(
            protocol.SET_CREDENTIAL, {"provider": "openai", "secret": f" \t{KEY}\r\n"}
        )
        assert stored["result"]["stored"] is True
        resolved = wire.request(protocol.RESOLVE, {"provider": "openai"})
    assert resolved["result"]["secret"] == KEY


def test_the_cli_refuses_a_key_with_a_leading_control_character(
    sandbox: Sandbox, daemon: Daemon
) -> None:
    result = run_cli(sandbox, "provider", "set", "openai", input=f"\x1f{KEY}\n")
    assert result.returncode != 0
    assert "U+001F" in result.stderr
    assert KEY not in result.stderr + result.stdout
    reset_default()
    with pytest.raises(nxuskit.NotAuthenticated):
        nxuskit.auth_resolve("openai")
