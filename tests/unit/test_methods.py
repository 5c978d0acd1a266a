"""The table of handlers: complete or the daemon does not start, and each handler answers
with its method's shape (``nxuskit.answers.RESULTS``). The real daemon's answers to every
method are decoded in tests/integration/test_answers.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import msgspec
import pytest

from nxuskit import protocol
from nxuskit.answers import RESULTS
from nxuskitd.credentials import CredentialService
from nxuskitd.dispatch import params_type
from nxuskitd.methods import DaemonState, MissingHandler, handlers
from nxuskitd.stores import FileStore

pytestmark = pytest.mark.anyio


@pytest.fixture
def service(tmp_path: Path) -> CredentialService:
    data = str(tmp_path / "data" / "nxuskit")
    config = str(tmp_path / "config.toml")
    return CredentialService(FileStore(data), "test", config_path=config, data_dir=data)


def test_a_method_without_a_handler_stops_the_daemon(
    service: CredentialService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(protocol.PARAMS, "daemon.forgotten", ({}, {}))
    with pytest.raises(MissingHandler, match=r"daemon\.forgotten"):
        handlers(service, DaemonState(str(tmp_path / "s.sock"), "hand"))


def test_the_handler_check_holds_under_python_optimized(tmp_path: Path) -> None:
    # An assert would vanish under -O and the daemon would start without the handler.
    code = (
        "import sys\n"
        "from nxuskit import protocol\n"
        "from nxuskitd.credentials import CredentialService\n"
        "from nxuskitd.methods import DaemonState, MissingHandler, handlers\n"
        "from nxuskitd.stores import FileStore\n"
        "protocol.PARAMS['daemon.forgotten'] = ({}, {})\n"
        "service = CredentialService(FileStore(sys.argv[1]), 'test')\n"
        "try:\n"
        "    handlers(service, DaemonState('s.sock', 'hand'))\n"
        "except MissingHandler as exc:\n"
        "    print(exc)\n"
    )
    done = subprocess.run(
        [sys.executable, "-O", "-c", code, str(tmp_path / "data")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "daemon.forgotten" in done.stdout


def test_every_method_of_the_contract_has_a_shape_and_a_handler(
    service: CredentialService, tmp_path: Path
) -> None:
    bound = handlers(service, DaemonState(str(tmp_path / "s.sock"), "hand"))
    assert set(bound) == set(protocol.PARAMS) == set(RESULTS)


async def test_the_handlers_answer_with_their_shapes(
    service: CredentialService, tmp_path: Path
) -> None:
    bound = handlers(service, DaemonState(str(tmp_path / "s.sock"), "hand"))
    calls = [
        (protocol.SET_CREDENTIAL, {"provider": "openai", "secret": "sk-shape-1f2e3d"}),
        (protocol.HELLO, {}),
        (protocol.DAEMON_STATUS, {}),
        (protocol.RESOLVE, {"provider": "openai"}),
        (protocol.RESOLVE, {"provider": "ollama"}),
        (protocol.STATUS, {}),
        (protocol.PROVIDER_LIST, {}),
        (protocol.DAEMON_LOCK, {}),
        (protocol.STORE_MIGRATE, {"to": "file"}),
        (protocol.REMOVE_CREDENTIAL, {"provider": "openai"}),
    ]
    for method, params in calls:
        answer = await bound[method](msgspec.convert(params, params_type(method)))
        assert type(answer) is RESULTS[method], method
        assert RESULTS[method].from_wire(answer.to_wire(), method) == answer
