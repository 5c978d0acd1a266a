"""JSON-RPC 2.0 to the letter: the dispatcher against a literal table of the spec's codes.

The first half drives a Dispatcher with small fake handlers; the second half the real
handlers over a CredentialService with a FileStore in tmp_path.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from nxuskit import errors, protocol, registry
from nxuskitd.credentials import CredentialService
from nxuskitd.dispatch import Dispatcher
from nxuskitd.methods import DaemonState, handlers
from nxuskitd.stores import FileStore

pytestmark = pytest.mark.anyio

# The specification's codes, written out here rather than read from our own constants.
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
SPEC_KINDS = {
    PARSE_ERROR: "parse_error",
    INVALID_REQUEST: "invalid_request",
    METHOD_NOT_FOUND: "method_not_found",
    INVALID_PARAMS: "invalid_params",
    INTERNAL_ERROR: "internal_error",
}
RESERVED = range(-32768, -32000 + 1)
LEAK = "sk-leaked-through-an-exception-9f8e7d"


def line(message: object) -> bytes:
    return json.dumps(message).encode()


def request(method: str, params: object = None, id: object = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "id": id}
    if params is not None:
        message["params"] = params
    return message


def decode(answer: bytes | None) -> Any:
    """The JSON of one answer line, after checking it is exactly one line."""
    assert answer is not None, "expected an answer, got none"
    assert answer.endswith(b"\n")
    assert answer.count(b"\n") == 1, "an answer must be exactly one line"
    return json.loads(answer)


def assert_error(response: Any, code: int, id: object) -> dict[str, Any]:
    assert isinstance(response, dict), response
    assert set(response) == {"jsonrpc", "id", "error"}, response
    assert response["jsonrpc"] == "2.0"
    assert response["id"] == id
    assert type(response["id"]) is type(id)
    error: dict[str, Any] = response["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str)
    assert error["message"]
    if code in SPEC_KINDS:
        assert error["data"]["kind"] == SPEC_KINDS[code]
    return error


class Fakes:
    """Handlers that record what they were called with."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    async def hello(self, params: Any) -> Any:
        self.calls.append(("hello", params))
        return {"protocol": 1, "client": params.client}

    async def resolve(self, params: Any) -> Any:
        self.calls.append(("resolve", params))
        if params.provider == "boom":
            raise RuntimeError(f"kaboom {LEAK}")
        if params.provider == "keyerror":
            raise KeyError(LEAK)
        if params.provider == "missing":
            raise errors.NotAuthenticated("no credential for missing")
        return {"provider": params.provider, "secret": "sk-fake"}

    async def set_credential(self, params: Any) -> Any:
        self.calls.append(("set", params))
        return {"stored": True}


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def dispatcher(fakes: Fakes) -> Dispatcher:
    return Dispatcher(
        {
            protocol.HELLO: fakes.hello,
            protocol.RESOLVE: fakes.resolve,
            protocol.SET_CREDENTIAL: fakes.set_credential,
        }
    )


# -- the codes -----------------------------------------------------------------------------


def test_protocol_constants_are_the_specifications_numbers() -> None:
    assert protocol.PARSE_ERROR == -32700
    assert protocol.INVALID_REQUEST == -32600
    assert protocol.METHOD_NOT_FOUND == -32601
    assert protocol.INVALID_PARAMS == -32602
    assert protocol.INTERNAL_ERROR == -32603


HELLO_1 = {"jsonrpc": "2.0", "method": "daemon.hello", "id": 1}

ERROR_TABLE: list[tuple[str, bytes, int, object]] = [
    # (case, request line, expected code, expected id)
    ("not JSON", b"this is not json", PARSE_ERROR, None),
    ("truncated object", b'{"jsonrpc":"2.0","method":"daemon.hello","id":1', PARSE_ERROR, None),
    ("invalid UTF-8", b"\xff\xfe\xfd", PARSE_ERROR, None),
    (
        "invalid UTF-8 inside a string",
        b'{"jsonrpc":"2.0","id":1,"method":"daemon.hello","params":{"client":"\xc3\x28"}}',
        PARSE_ERROR,
        None,
    ),
    ("NaN is not JSON", b'{"jsonrpc":"2.0","id":NaN,"method":"daemon.hello"}', PARSE_ERROR, None),
    ("nested too deeply", b"[" * 20_000, PARSE_ERROR, None),
    ("nested objects too deeply", b'{"a":' * 20_000, PARSE_ERROR, None),
    (
        "batch with invalid JSON (spec example)",
        b'[{"jsonrpc":"2.0","method":"sum","params":[1,2,4],"id":"1"},{"jsonrpc":"2.0","method"]',
        PARSE_ERROR,
        None,
    ),
    ("a number", b"1", INVALID_REQUEST, None),
    ("a string", b'"daemon.hello"', INVALID_REQUEST, None),
    ("null", b"null", INVALID_REQUEST, None),
    ("true", b"true", INVALID_REQUEST, None),
    ("empty batch", b"[]", INVALID_REQUEST, None),
    ("object without jsonrpc (spec example)", b'{"foo":"boo"}', INVALID_REQUEST, None),
    (
        "method not a string (spec example)",
        b'{"jsonrpc":"2.0","method":1,"params":"bar"}',
        INVALID_REQUEST,
        None,
    ),
    ("jsonrpc 1.0", line({**HELLO_1, "jsonrpc": "1.0"}), INVALID_REQUEST, 1),
    ("jsonrpc as a number", line({**HELLO_1, "jsonrpc": 2.0}), INVALID_REQUEST, 1),
    ("jsonrpc missing", line({"method": "daemon.hello", "id": 2}), INVALID_REQUEST, 2),
    ("method missing", line({"jsonrpc": "2.0", "id": 3}), INVALID_REQUEST, 3),
    ("method null", line({**HELLO_1, "method": None}), INVALID_REQUEST, 1),
    ("method a list", line({**HELLO_1, "method": ["daemon.hello"]}), INVALID_REQUEST, 1),
    ("id an object", line({**HELLO_1, "id": {"a": 1}}), INVALID_REQUEST, None),
    ("id a list", line({**HELLO_1, "id": [1]}), INVALID_REQUEST, None),
    ("id a boolean", line({**HELLO_1, "id": True}), INVALID_REQUEST, None),
    # Issue 9, item 13: the sign of a huge integer id must not decide the answer.
    (
        "id of 4300 digits",
        b'{"jsonrpc":"2.0","method":"daemon.hello","id":' + b"9" * 4300 + b"}",
        INVALID_REQUEST,
        None,
    ),
    (
        "id of minus 4300 digits",
        b'{"jsonrpc":"2.0","method":"daemon.hello","id":-' + b"9" * 4300 + b"}",
        INVALID_REQUEST,
        None,
    ),
    ("id of 1001 digits", line({**HELLO_1, "id": 10**1000}), INVALID_REQUEST, None),
    ("id of minus 1001 digits", line({**HELLO_1, "id": -(10**1000)}), INVALID_REQUEST, None),
    (
        "a number past a double",
        b'{"jsonrpc":"2.0","method":"daemon.hello","id":1e400}',
        INVALID_REQUEST,
        None,
    ),
    ("params a string", line({**HELLO_1, "params": "bar"}), INVALID_REQUEST, 1),
    ("params a number", line({**HELLO_1, "params": 5}), INVALID_REQUEST, 1),
    ("params null", line({**HELLO_1, "params": None}), INVALID_REQUEST, 1),
    ("unknown method", line({**HELLO_1, "method": "daemon.nope"}), METHOD_NOT_FOUND, 1),
    ("rpc.* method", line({**HELLO_1, "method": "rpc.discover"}), METHOD_NOT_FOUND, 1),
    ("method case matters", line({**HELLO_1, "method": "Daemon.Hello"}), METHOD_NOT_FOUND, 1),
    (
        "positional params",
        line(request("auth.resolve", ["openai"], id="p")),
        INVALID_PARAMS,
        "p",
    ),
    (
        "param of the wrong type",
        line(request("auth.resolve", {"provider": 5}, id=9)),
        INVALID_PARAMS,
        9,
    ),
    ("required param missing", line(request("auth.resolve", {}, id=10)), INVALID_PARAMS, 10),
    (
        "optional param of the wrong type",
        line(request("daemon.hello", {"protocol": "one"}, id=11)),
        INVALID_PARAMS,
        11,
    ),
    (
        "handler raises",
        line(request("auth.resolve", {"provider": "boom"}, id=12)),
        INTERNAL_ERROR,
        12,
    ),
]


@pytest.mark.parametrize(
    ("raw", "code", "expected_id"),
    [case[1:] for case in ERROR_TABLE],
    ids=[case[0] for case in ERROR_TABLE],
)
async def test_error_table(
    dispatcher: Dispatcher, raw: bytes, code: int, expected_id: object
) -> None:
    assert_error(decode(await dispatcher.handle(raw)), code, expected_id)


def test_batch_limit_is_what_the_table_assumes() -> None:
    assert protocol.MAX_BATCH == 64


async def test_too_big_batch_is_one_invalid_request_and_runs_nothing(
    dispatcher: Dispatcher, fakes: Fakes
) -> None:
    batch = [request("daemon.hello", id=n) for n in range(protocol.MAX_BATCH + 1)]
    assert_error(decode(await dispatcher.handle(line(batch))), INVALID_REQUEST, None)
    assert fakes.calls == []


async def test_a_full_batch_is_served(dispatcher: Dispatcher) -> None:
    batch = [request("daemon.hello", id=n) for n in range(protocol.MAX_BATCH)]
    answers = decode(await dispatcher.handle(line(batch)))
    assert sorted(answer["id"] for answer in answers) == list(range(protocol.MAX_BATCH))


async def test_invalid_params_names_the_field(dispatcher: Dispatcher) -> None:
    error = assert_error(
        decode(await dispatcher.handle(line(request("auth.resolve", {"provider": 5})))),
        INVALID_PARAMS,
        1,
    )
    assert "$.provider" in error["message"]

    error = assert_error(
        decode(await dispatcher.handle(line(request("auth.set_credential", {"provider": "x"})))),
        INVALID_PARAMS,
        1,
    )
    assert "secret" in error["message"]


async def test_positional_params_are_refused_before_the_handler_runs(
    dispatcher: Dispatcher, fakes: Fakes
) -> None:
    answer = decode(await dispatcher.handle(line(request("auth.resolve", ["openai"]))))
    assert_error(answer, INVALID_PARAMS, 1)
    assert fakes.calls == []


@pytest.mark.parametrize("provider", ["boom", "keyerror"])
async def test_internal_error_leaks_no_traceback_or_exception_text(
    dispatcher: Dispatcher, provider: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="nxuskitd.dispatch"):
        raw = await dispatcher.handle(line(request("auth.resolve", {"provider": provider}, id=5)))
    assert raw is not None
    assert_error(decode(raw), INTERNAL_ERROR, 5)
    text = raw.decode()
    for leak in (LEAK, "kaboom", "Traceback", "RuntimeError", "KeyError", 'File "', "line "):
        assert leak not in text
    # The traceback belongs in the daemon's log instead.
    assert any(record.exc_info for record in caplog.records)


async def test_internal_error_in_a_notification_is_silent(dispatcher: Dispatcher) -> None:
    message = {"jsonrpc": "2.0", "method": "auth.resolve", "params": {"provider": "boom"}}
    assert await dispatcher.handle(line(message)) is None


# -- ids -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "request_id",
    ["abc", "", "ключ-🔑", 0, 7, -3, 2**70, -(2**70), 10**1000 - 1, 1 - 10**1000, 1.5, None],
)
async def test_id_is_echoed_with_its_type(dispatcher: Dispatcher, request_id: object) -> None:
    answer = decode(await dispatcher.handle(line(request("daemon.hello", id=request_id))))
    assert set(answer) == {"jsonrpc", "id", "result"}
    assert answer["id"] == request_id
    assert type(answer["id"]) is type(request_id)


@pytest.mark.parametrize("request_id", ["abc", 42, None])
async def test_id_is_echoed_on_errors_too(dispatcher: Dispatcher, request_id: object) -> None:
    raw = line(request("no.such.method", id=request_id))
    assert_error(decode(await dispatcher.handle(raw)), METHOD_NOT_FOUND, request_id)


# -- notifications -------------------------------------------------------------------------


async def test_notification_runs_and_gets_no_answer(dispatcher: Dispatcher, fakes: Fakes) -> None:
    message = {"jsonrpc": "2.0", "method": "daemon.hello", "params": {"client": "n"}}
    assert await dispatcher.handle(line(message)) is None
    assert [name for name, _ in fakes.calls] == ["hello"]
    assert fakes.calls[0][1].client == "n"


@pytest.mark.parametrize(
    "message",
    [
        {"jsonrpc": "2.0", "method": "no.such.method"},
        {"jsonrpc": "2.0", "method": "auth.resolve", "params": {"provider": 5}},
        {"jsonrpc": "2.0", "method": "auth.resolve", "params": ["openai"]},
        {"jsonrpc": "2.0", "method": "auth.resolve", "params": {"provider": "missing"}},
        # A notification's params of the wrong JSON type: still a notification (issue 9,
        # item 13), so no answer puts the client out of step.
        {"jsonrpc": "2.0", "method": "daemon.hello", "params": None},
        {"jsonrpc": "2.0", "method": "daemon.hello", "params": "bar"},
        {"jsonrpc": "2.0", "method": "no.such.method", "params": 5},
    ],
    ids=[
        "unknown method",
        "bad params",
        "positional params",
        "application error",
        "params null",
        "params a string",
        "params a number, unknown method",
    ],
)
async def test_notification_errors_get_no_answer(dispatcher: Dispatcher, message: object) -> None:
    assert await dispatcher.handle(line(message)) is None


async def test_id_null_is_a_request_not_a_notification(dispatcher: Dispatcher) -> None:
    answer = decode(await dispatcher.handle(line(request("daemon.hello", id=None))))
    assert answer["id"] is None
    assert answer["result"]["protocol"] == 1


# -- batches -------------------------------------------------------------------------------


async def test_mixed_batch(dispatcher: Dispatcher, fakes: Fakes) -> None:
    batch = [
        request("daemon.hello", id=1),
        {"jsonrpc": "2.0", "method": "daemon.hello"},  # a notification: no answer
        {"foo": "boo"},
        1,
        request("no.such.method", id="x"),
        request("auth.resolve", {"provider": 5}, id=7),
        request("auth.resolve", {"provider": "missing"}, id=8),
    ]
    answers = decode(await dispatcher.handle(line(batch)))
    assert isinstance(answers, list)
    assert len(answers) == 6
    by_id: dict[object, list[Any]] = {}
    for answer in answers:
        by_id.setdefault(answer["id"], []).append(answer)
    assert by_id[1][0]["result"]["protocol"] == 1
    assert_error(by_id["x"][0], METHOD_NOT_FOUND, "x")
    assert_error(by_id[7][0], INVALID_PARAMS, 7)
    assert by_id[8][0]["error"]["data"]["kind"] == "not_authenticated"
    assert len(by_id[None]) == 2
    for answer in by_id[None]:
        assert_error(answer, INVALID_REQUEST, None)
    assert [name for name, _ in fakes.calls].count("hello") == 2


async def test_batch_of_non_objects_answers_each_spec_example(dispatcher: Dispatcher) -> None:
    answers = decode(await dispatcher.handle(b"[1,2,3]"))
    assert isinstance(answers, list)
    assert len(answers) == 3
    for answer in answers:
        assert_error(answer, INVALID_REQUEST, None)


async def test_batch_of_one_invalid_is_still_an_array(dispatcher: Dispatcher) -> None:
    answers = decode(await dispatcher.handle(b"[1]"))
    assert isinstance(answers, list)
    assert len(answers) == 1
    assert_error(answers[0], INVALID_REQUEST, None)


async def test_nested_batch_is_an_invalid_request(dispatcher: Dispatcher) -> None:
    answers = decode(await dispatcher.handle(line([[request("daemon.hello")]])))
    assert isinstance(answers, list)
    assert len(answers) == 1
    assert_error(answers[0], INVALID_REQUEST, None)


async def test_all_notification_batch_returns_nothing(dispatcher: Dispatcher, fakes: Fakes) -> None:
    batch = [
        {"jsonrpc": "2.0", "method": "daemon.hello", "params": {"client": str(n)}} for n in range(3)
    ]
    assert await dispatcher.handle(line(batch)) is None
    assert sorted(params.client for _, params in fakes.calls) == ["0", "1", "2"]


async def test_params_may_be_omitted(dispatcher: Dispatcher) -> None:
    answer = decode(await dispatcher.handle(line(request("daemon.hello"))))
    assert answer["result"] == {"protocol": 1, "client": None}


async def test_trailing_carriage_return_is_whitespace(dispatcher: Dispatcher) -> None:
    answer = decode(await dispatcher.handle(line(request("daemon.hello", id=4)) + b"\r"))
    assert answer["id"] == 4
    assert "result" in answer


# -- application errors --------------------------------------------------------------------


ERROR_CLASSES = [
    errors.DaemonUnavailable,
    errors.DaemonBusy,
    errors.VersionMismatch,
    errors.UnknownProvider,
    errors.NotAuthenticated,
    errors.StoreUnavailable,
    errors.PermissionDenied,
    errors.InvalidArgument,
    errors.ConfigError,
    errors.ProtocolError,
]


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda cls: cls.__name__)
async def test_application_errors_carry_their_kind_and_code(cls: type[errors.NxuskitError]) -> None:
    async def fail(params: Any) -> Any:
        raise cls("what went wrong, and how to fix it")

    dispatcher = Dispatcher({protocol.RESOLVE: fail})
    answer = decode(await dispatcher.handle(line(request("auth.resolve", {"provider": "x"}))))
    error = answer["error"]
    assert answer["id"] == 1
    assert error["data"]["kind"] == cls.kind
    assert error["message"] == "what went wrong, and how to fix it"
    assert error["code"] == cls.code
    if error["code"] in RESERVED:
        # Only the two that mean what the specification's codes mean may use them.
        assert (error["code"], cls.kind) in {
            (INVALID_PARAMS, "invalid_params"),
            (INTERNAL_ERROR, "protocol_error"),
        }


# -- the real handlers over a CredentialService with a FileStore ---------------------------

SECRET = "sk-real-handlers-5c1b9e0d7a"


@pytest.fixture
def service(tmp_path: Path) -> CredentialService:
    store = FileStore(str(tmp_path / "data" / "nxuskit"))
    return CredentialService(store, "test", config_path=str(tmp_path / "config.toml"))


@pytest.fixture
def real(service: CredentialService, tmp_path: Path) -> Dispatcher:
    return Dispatcher(handlers(service, DaemonState(str(tmp_path / "s.sock"), "hand")))


async def ask(dispatcher: Dispatcher, method: str, params: object = None, id: object = 1) -> Any:
    return decode(await dispatcher.handle(line(request(method, params, id))))


def assert_application_error(answer: Any, kind: str) -> dict[str, Any]:
    assert set(answer) == {"jsonrpc", "id", "error"}
    error: dict[str, Any] = answer["error"]
    assert error["data"]["kind"] == kind
    assert error["code"] not in RESERVED
    return error


async def test_real_hello(real: Dispatcher) -> None:
    result = (await ask(real, "daemon.hello", {"protocol": 1, "client": "unit"}))["result"]
    assert result["protocol"] == protocol.PROTOCOL_VERSION
    assert isinstance(result["version"], str)
    assert result["store"]["kind"] == "file"


async def test_real_set_resolve_remove(real: Dispatcher) -> None:
    stored = await ask(real, "auth.set_credential", {"provider": "GPT", "secret": SECRET})
    assert stored["result"]["provider"] == "openai"
    assert SECRET not in json.dumps(stored)

    resolved = (await ask(real, "auth.resolve", {"provider": "openai"}))["result"]
    assert resolved["secret"] == SECRET
    assert resolved["source"] == "store"
    assert resolved["auth_method"] == "api_key"

    removed = await ask(real, "auth.remove_credential", {"provider": "openai"})
    assert removed["result"]["removed"] is True
    again = await ask(real, "auth.remove_credential", {"provider": "openai"})
    assert again["result"]["removed"] is False
    gone = await ask(real, "auth.resolve", {"provider": "openai"})
    assert_application_error(gone, "not_authenticated")


async def test_real_status_never_holds_the_secret(real: Dispatcher) -> None:
    await ask(real, "auth.set_credential", {"provider": "claude", "secret": SECRET})
    one = await real.handle(line(request("auth.status", {"provider": "anthropic"})))
    every = await real.handle(line(request("auth.status", {})))
    assert one is not None
    assert every is not None
    assert SECRET.encode() not in one
    assert SECRET.encode() not in every
    (entry,) = json.loads(one)["result"]["providers"]
    assert entry["provider"] == "claude"
    assert entry["status"] == "authenticated"
    assert entry["source"] == "store"
    entries = {e["provider"]: e for e in json.loads(every)["result"]["providers"]}
    assert len(entries) == len(registry.BUILTIN)
    assert entries["ollama"]["status"] == "not_required"
    assert entries["openai"]["status"] == "not_authenticated"


async def test_real_unknown_provider(real: Dispatcher) -> None:
    answer = await ask(real, "auth.resolve", {"provider": "nonesuch"})
    error = assert_application_error(answer, "unknown_provider")
    assert "nonesuch" in error["message"]
    assert "openai" in error["message"]


async def test_real_not_authenticated_says_how_to_fix(real: Dispatcher) -> None:
    error = assert_application_error(
        await ask(real, "auth.resolve", {"provider": "groq"}), "not_authenticated"
    )
    assert "GROQ_API_KEY" in error["message"]
    assert "provider set groq" in error["message"]


@pytest.mark.parametrize(
    ("provider", "secret"),
    [
        ("ollama", SECRET),
        ("openai", f"{SECRET}\nsecond line"),
        ("openai", f"{SECRET}\x07"),
        ("openai", "   "),
        ("openai", SECRET * 1000),
        # Control characters that str.strip() would have dropped at the ends (issue 9,
        # item 13): refused, never stored as "sk-...".
        ("openai", f"\x1f{SECRET}"),
        ("openai", f"{SECRET}\x1c"),
        ("openai", f"{SECRET}\x85"),
        ("openai", f"\x0b{SECRET}"),
    ],
    ids=[
        "no-auth provider",
        "newline",
        "control char",
        "blank",
        "too long",
        "leading U+001F",
        "trailing U+001C",
        "trailing C1 U+0085",
        "leading vertical tab",
    ],
)
async def test_real_set_refusals_never_echo_the_secret(
    real: Dispatcher, provider: str, secret: str
) -> None:
    raw = await real.handle(
        line(request("auth.set_credential", {"provider": provider, "secret": secret}))
    )
    assert raw is not None
    assert SECRET.encode() not in raw
    error = decode(raw)["error"]
    assert error["code"] == INVALID_PARAMS
    assert error["data"]["kind"] == "invalid_params"


async def test_real_set_trims_only_spaces_tabs_and_line_breaks(real: Dispatcher) -> None:
    stored = await ask(
        real, "auth.set_credential", {"provider": "openai", "secret": f" \t{SECRET}\r\n"}
    )
    assert stored["result"]["stored"] is True
    resolved = (await ask(real, "auth.resolve", {"provider": "openai"}))["result"]
    assert resolved["secret"] == SECRET


async def test_real_invalid_params_name_the_field(real: Dispatcher) -> None:
    answer = await ask(real, "auth.set_credential", {"provider": "openai", "secret": 123})
    assert_error(answer, INVALID_PARAMS, 1)
    assert "$.secret" in answer["error"]["message"]


async def test_real_provider_list(real: Dispatcher) -> None:
    providers = (await ask(real, "provider.list"))["result"]["providers"]
    names = [p["name"] for p in providers]
    assert names[:10] == [
        "openai",
        "claude",
        "groq",
        "mistral",
        "fireworks",
        "together",
        "openrouter",
        "perplexity",
        "ollama",
        "lm-studio",
    ]


async def test_real_corrupt_store_is_store_unavailable_not_internal(
    real: Dispatcher, tmp_path: Path
) -> None:
    data = tmp_path / "data" / "nxuskit"
    data.mkdir(parents=True, mode=0o700)
    (data / "credentials.json").write_text('{"format": 1, "credentials": {"openai": ')
    (data / "credentials.json").chmod(0o600)
    raw = await real.handle(line(request("auth.resolve", {"provider": "openai"})))
    assert raw is not None
    error = assert_application_error(decode(raw), "store_unavailable")
    assert "credentials.json" in error["message"]
    assert b"Traceback" not in raw
