"""Property tests: whatever line arrives, Dispatcher.handle answers like a JSON-RPC server.

It never raises; it returns None or exactly one JSON line holding a response object (or a
non-empty array of them); it never stays silent when the specification wants an answer;
and a stored secret appears only in the ``result.secret`` of an ``auth.resolve``.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nxuskit import protocol
from nxuskitd.credentials import CredentialService
from nxuskitd.dispatch import Dispatcher
from nxuskitd.methods import DaemonState, handlers
from nxuskitd.stores import FileStore, Record

SECRET = "sk-stored-before-fuzzing-0b7c41f2e9d3"
SECRET_PROVIDER = "perplexity"
SPEC_CODES = {-32700, -32600, -32601, -32602, -32603}
FUZZ = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Target:
    def __init__(self, portal: BlockingPortal, dispatcher: Dispatcher) -> None:
        self.portal = portal
        self.dispatcher = dispatcher

    def handle(self, frame: bytes) -> bytes | None:
        return self.portal.call(self.dispatcher.handle, frame)


@pytest.fixture(scope="module")
def target() -> Iterator[Target]:
    """The real handlers over a file store that holds SECRET for SECRET_PROVIDER."""
    with tempfile.TemporaryDirectory(prefix="nxk-fuzz-") as root:
        store = FileStore(f"{root}/data/nxuskit")
        store.set(SECRET_PROVIDER, Record(secret=SECRET))
        service = CredentialService(store, "fuzz", config_path=f"{root}/config.toml")
        dispatcher = Dispatcher(handlers(service, DaemonState(f"{root}/s.sock", "hand")))
        with start_blocking_portal("asyncio") as portal:
            yield Target(portal, dispatcher)


# -- what a correct answer looks like ------------------------------------------------------


def _mentions_resolve(frame: bytes) -> bool:
    try:
        message = json.loads(frame)
    except (ValueError, RecursionError):
        return False
    items = message if isinstance(message, list) else [message]
    return any(isinstance(item, dict) and item.get("method") == protocol.RESOLVE for item in items)


def _item_due(item: object) -> bool:
    """Whether one request object must be answered: all but a notification, which is an
    object without "id" that has "jsonrpc": "2.0" and a string "method", whatever its
    params (docs/protocol.md section 4)."""
    if not isinstance(item, dict) or "id" in item:
        return True
    return item.get("jsonrpc") != "2.0" or not isinstance(item.get("method"), str)


def _answer_due(frame: bytes) -> bool:
    """Whether the specification requires an answer to this line (else it forbids one)."""
    try:
        message = msgspec.json.decode(frame)
    except (msgspec.DecodeError, UnicodeDecodeError, RecursionError):
        return True  # a parse error is always answered
    if isinstance(message, list):
        if not message or len(message) > protocol.MAX_BATCH:
            return True
        return any(_item_due(item) for item in message)
    return _item_due(message)


def _check_response(response: Any) -> None:
    assert isinstance(response, dict), response
    assert response.get("jsonrpc") == "2.0"
    assert "id" in response
    request_id = response["id"]
    assert request_id is None or (
        isinstance(request_id, (str, int, float)) and not isinstance(request_id, bool)
    )
    assert set(response) in ({"jsonrpc", "id", "result"}, {"jsonrpc", "id", "error"}), response
    if "error" in response:
        error = response["error"]
        assert isinstance(error, dict)
        assert isinstance(error["code"], int)
        assert not isinstance(error["code"], bool)
        assert isinstance(error["message"], str)
        assert error["message"]
        if -32768 <= error["code"] <= -32000:
            assert error["code"] in SPEC_CODES, error
        assert isinstance(error["data"]["kind"], str)
        for leak in ("Traceback", 'File "'):
            assert leak not in error["message"]


def check(frame: bytes, answer: bytes | None, secrets: tuple[str, ...] = ()) -> None:
    """Everything the properties promise about one (frame, answer) pair."""
    due = _answer_due(frame)
    if answer is None:
        assert not due, f"no answer to {frame!r}"
        return
    assert due, f"an answer to a notification: {frame!r} -> {answer!r}"
    assert isinstance(answer, bytes)
    assert answer.endswith(b"\n")
    assert answer.count(b"\n") == 1
    message = json.loads(answer.decode("utf-8"))
    responses = message if isinstance(message, list) else [message]
    if isinstance(message, list):
        assert message, "an empty array is never an answer"
        assert len(message) <= protocol.MAX_BATCH
    for response in responses:
        _check_response(response)

    allowed = _mentions_resolve(frame)
    for response in responses:
        rest = dict(response)
        result = rest.get("result")
        if allowed and isinstance(result, dict) and "secret" in result:
            rest["result"] = {k: v for k, v in result.items() if k != "secret"}
        text = json.dumps(rest, ensure_ascii=False)
        for secret in (SECRET, *secrets):
            assert secret not in text, f"secret leaked for {frame!r}: {text}"


# -- inputs --------------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=15,
)
providers = st.sampled_from(
    ["openai", "GPT", "claude", "ollama", "lm-studio", SECRET_PROVIDER, "nonesuch", "", " openai "]
)
methods = st.sampled_from([*protocol.PARAMS, "rpc.discover", "nope", ""]) | st.text(max_size=12)
param_keys = st.sampled_from(["provider", "secret", "protocol", "client"]) | st.text(max_size=8)
param_values = providers | json_values
ids = st.none() | st.integers() | st.text(max_size=8) | json_values


@st.composite
def requests(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {}
    if draw(st.booleans()):
        message["jsonrpc"] = draw(st.sampled_from(["2.0", "2.0", "1.0", 2]) | json_values)
    if draw(st.integers(0, 9)):
        message["method"] = draw(methods)
    if draw(st.booleans()):
        message["id"] = draw(ids)
    if draw(st.booleans()):
        message["params"] = draw(
            st.dictionaries(param_keys, param_values, max_size=4) | json_values
        )
    return message


frames_of_requests = st.one_of(
    requests(), st.lists(requests() | json_values, max_size=protocol.MAX_BATCH + 2)
).map(lambda message: json.dumps(message).encode())

VALID_FRAMES = [
    json.dumps(message, separators=(",", ":")).encode()
    for message in (
        {"jsonrpc": "2.0", "id": 1, "method": "daemon.hello", "params": {"protocol": 1}},
        {"jsonrpc": "2.0", "id": "r", "method": "auth.resolve", "params": {"provider": "openai"}},
        {"jsonrpc": "2.0", "id": 2, "method": "auth.resolve", "params": {"provider": "perplexity"}},
        {"jsonrpc": "2.0", "id": 3, "method": "auth.status", "params": {}},
        {"jsonrpc": "2.0", "id": 4, "method": "auth.status", "params": {"provider": "perplexity"}},
        {"jsonrpc": "2.0", "id": 5, "method": "provider.list"},
        {"jsonrpc": "2.0", "id": 6, "method": "daemon.status"},
        {
            "jsonrpc": "2.0",
            "id": 7,
            "method": "auth.set_credential",
            "params": {"provider": "openai", "secret": "sk-fuzz-set-value"},
        },
        {
            "jsonrpc": "2.0",
            "id": 8,
            "method": "auth.remove_credential",
            "params": {"provider": "groq"},
        },
        [
            {"jsonrpc": "2.0", "id": 9, "method": "auth.status", "params": {"provider": "openai"}},
            {"jsonrpc": "2.0", "method": "daemon.hello"},
        ],
    )
]


@st.composite
def mutated_frames(draw: st.DrawFn) -> bytes:
    frame = bytearray(draw(st.sampled_from(VALID_FRAMES)))
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate", "duplicate", "swap"]))
        at = draw(st.integers(0, max(0, len(frame) - 1)))
        if kind == "flip" and frame:
            frame[at] = draw(st.integers(0, 255))
        elif kind == "delete":
            del frame[at : at + draw(st.integers(1, 8))]
        elif kind == "insert":
            frame[at:at] = draw(
                st.binary(min_size=1, max_size=8)
                | st.sampled_from([b'"', b"{", b"}", b"[", b"]", b",", b":", b"\\", b"null"])
            )
        elif kind == "truncate":
            del frame[at:]
        elif kind == "duplicate":
            frame[at:at] = frame[at : at + draw(st.integers(1, 16))]
        elif kind == "swap":
            other = draw(st.integers(0, max(0, len(frame) - 1)))
            if frame:
                frame[at], frame[other] = frame[other], frame[at]
    return bytes(frame)


# -- the properties ------------------------------------------------------------------------


@FUZZ
@given(frame=st.binary(max_size=512))
@example(frame=b"")
@example(frame=b"[" * 60_000)
@example(frame=b'{"a":' * 20_000)
@example(frame=b"\xff" * 10)
@example(frame=b'"\\ud800"')
@example(frame=b"\xef\xbb\xbf{}")
@example(frame=b"1e400")
def test_random_bytes(target: Target, frame: bytes) -> None:
    check(frame, target.handle(frame))


@FUZZ
@given(value=json_values)
def test_random_json_values(target: Target, value: object) -> None:
    frame = json.dumps(value).encode()
    check(frame, target.handle(frame))


@FUZZ
@given(frame=frames_of_requests)
def test_request_shaped_values(target: Target, frame: bytes) -> None:
    check(frame, target.handle(frame))


@FUZZ
@given(frame=mutated_frames())
def test_mutated_valid_frames(target: Target, frame: bytes) -> None:
    check(frame, target.handle(frame))


@FUZZ
@given(
    provider=providers.filter(lambda name: name != SECRET_PROVIDER),
    secret=st.text(min_size=1, max_size=40).map(lambda tail: "zq-new-secret-" + tail),
    request_id=st.integers(0, 10**6),
)
def test_set_credential_never_echoes_the_secret_it_was_given(
    target: Target, provider: str, secret: str, request_id: int
) -> None:
    params = {"provider": provider, "secret": secret}
    frame = json.dumps(
        {"jsonrpc": "2.0", "id": request_id, "method": "auth.set_credential", "params": params}
    ).encode()
    answer = target.handle(frame)
    check(frame, answer, secrets=(secret, secret.strip()))
    assert answer is not None
    assert json.loads(answer)["id"] == request_id


def test_the_stored_secret_is_really_there_to_leak(target: Target) -> None:
    # Guards the properties above: they are only meaningful if resolve can return SECRET.
    frame = VALID_FRAMES[2]
    answer = target.handle(frame)
    assert answer is not None
    assert json.loads(answer)["result"]["secret"] == SECRET
    check(frame, answer)
