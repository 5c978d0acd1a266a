"""JSON-RPC 2.0, to the letter: one line in, at most one line out.

``Dispatcher.handle(line)`` parses a request or a batch, validates params against the
contract in ``nxuskit.protocol`` (msgspec), calls the method, and encodes its answer
(an ``nxuskit.answers`` shape, through its ``to_wire()``).
Notifications get no answer; errors use the specification's codes, and application
errors carry ``data.kind``. A traceback stays in the daemon's log, never on the wire.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec

from nxuskit import protocol
from nxuskit.answers import Answer
from nxuskit.errors import NxuskitError

log = logging.getLogger(__name__)

Handler = Callable[[Any], Awaitable[Answer]]
"""A method: takes its validated params (a msgspec Struct), returns its answer shape."""


def _to_wire(value: object) -> object:
    """msgspec's hook for what it cannot encode itself: an answer becomes its JSON object."""
    if isinstance(value, Answer):
        return value.to_wire()
    raise TypeError(f"cannot encode {type(value).__name__}")


_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder(enc_hook=_to_wire)
_SHOWABLE_METHOD = re.compile(r"[A-Za-z0-9_.]{1,64}")
_NUMBER_TOO_LARGE = (
    "Invalid Request: a number is too large to read (over 4300 digits, or beyond 1.8e308)"
)
MAX_ID_DIGITS = 1000
"""Integer ids are echoed up to this many digits, of either sign (the reader's own limit,
about 4300 digits, counts a minus sign, so without this bound the sign would decide)."""
_ID_BOUND = 10**MAX_ID_DIGITS
_KINDS = {
    protocol.PARSE_ERROR: "parse_error",
    protocol.INVALID_REQUEST: "invalid_request",
    protocol.METHOD_NOT_FOUND: "method_not_found",
    protocol.INVALID_PARAMS: "invalid_params",
    protocol.INTERNAL_ERROR: "internal_error",
}


def error_response(
    request_id: object, code: int, message: str, kind: str | None = None
) -> dict[str, Any]:
    """A JSON-RPC error response object."""
    data = {"kind": kind or _KINDS.get(code, "error")}
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "error": {"code": code, "message": message, "data": data},
    }


def error_answer(request_id: object, error: NxuskitError) -> dict[str, Any]:
    """A JSON-RPC error response for an application error (its code, message and kind)."""
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_wire()}


def encode(message: object) -> bytes:
    """One compact JSON line."""
    return _encoder.encode(message) + b"\n"


def params_type(method: str) -> type[msgspec.Struct]:
    """A msgspec Struct that validates ``method``'s params as ``protocol.PARAMS`` says.

    Worth keeping: the params are written once, in the contract, and the validator is
    generated from them, so the daemon cannot drift from what clients send.
    """
    required, optional = protocol.PARAMS[method]
    fields: list[Any] = [(name, kind) for name, kind in required.items()]
    fields += [(name, kind | None, None) for name, kind in optional.items()]
    name = "".join(part.title() for part in re.split(r"[._]", method)) + "Params"
    return msgspec.defstruct(name, fields, kw_only=True)


def _id_problem(request_id: object) -> str | None:
    """Why ``request_id`` cannot be echoed, or None. The specification allows any Number
    (integers advised), echoed unchanged; huge integers are refused, whatever their sign."""
    if isinstance(request_id, bool) or not isinstance(request_id, (str, int, float, type(None))):
        return "id must be a string, a number or null"
    if isinstance(request_id, int) and not -_ID_BOUND < request_id < _ID_BOUND:
        return f"an integer id may have at most {MAX_ID_DIGITS} digits"
    return None


def _is_notification(message: dict[str, Any]) -> bool:
    """No "id", yet recognisably a JSON-RPC 2.0 call: the client expects no answer, so it
    gets none even when its params are wrong (an answer would put it out of step). An
    object that is no call at all ({"foo": "boo"}) is answered, as the specification's
    examples show."""
    return (
        "id" not in message
        and message.get("jsonrpc") == "2.0"
        and isinstance(message.get("method"), str)
    )


class Dispatcher:
    """Routes JSON-RPC requests to handlers."""

    def __init__(self, handlers: dict[str, Handler]) -> None:
        self._methods = {name: (params_type(name), handler) for name, handler in handlers.items()}

    async def handle(self, line: bytes) -> bytes | None:
        """The answer line for one request line, or None when nothing is to be sent."""
        try:
            message = _decoder.decode(line)
        except msgspec.ValidationError:  # valid JSON, but a number Python cannot hold
            return encode(error_response(None, protocol.INVALID_REQUEST, _NUMBER_TOO_LARGE))
        except (msgspec.DecodeError, UnicodeDecodeError):  # msgspec raises the latter on bad UTF-8
            return encode(error_response(None, protocol.PARSE_ERROR, "Parse error: not valid JSON"))
        except RecursionError:  # "[[[[..." within the size cap: answer it, do not raise
            return encode(
                error_response(None, protocol.PARSE_ERROR, "Parse error: JSON nested too deeply")
            )
        if isinstance(message, list):
            return await self._batch(message)
        answer = await self.call(message)
        return encode(answer) if answer is not None else None

    async def _batch(self, message: list[Any]) -> bytes | None:
        if not message:
            return encode(
                error_response(None, protocol.INVALID_REQUEST, "Invalid Request: empty batch")
            )
        if len(message) > protocol.MAX_BATCH:
            return encode(
                error_response(
                    None,
                    protocol.INVALID_REQUEST,
                    f"Invalid Request: a batch holds at most {protocol.MAX_BATCH} calls",
                )
            )
        answers = [answer for item in message if (answer := await self.call(item)) is not None]
        return encode(answers) if answers else None

    async def call(self, message: object) -> dict[str, Any] | None:
        """Run one request object; None for a notification."""
        if not isinstance(message, dict):
            return error_response(
                None, protocol.INVALID_REQUEST, "Invalid Request: expected a JSON object"
            )
        request_id = message.get("id")
        problem = _id_problem(request_id)
        if problem is not None:
            return error_response(None, protocol.INVALID_REQUEST, f"Invalid Request: {problem}")
        answer = await self._run(message, request_id)
        if _is_notification(message):
            return None
        return answer

    async def _run(self, message: dict[str, Any], request_id: object) -> dict[str, Any]:
        if message.get("jsonrpc") != "2.0":
            return error_response(
                request_id, protocol.INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"'
            )
        method = message.get("method")
        if not isinstance(method, str):
            return error_response(
                request_id, protocol.INVALID_REQUEST, 'Invalid Request: "method" must be a string'
            )
        params = message.get("params", {})
        if not isinstance(params, (dict, list)):
            return error_response(
                request_id,
                protocol.INVALID_REQUEST,
                'Invalid Request: "params" must be an object or an array',
            )
        entry = self._methods.get(method)
        if entry is None:
            shown = f" {method!r}" if _SHOWABLE_METHOD.fullmatch(method) else ""
            return error_response(
                request_id,
                protocol.METHOD_NOT_FOUND,
                f"Method not found:{shown}; see docs/protocol.md",
            )
        struct, handler = entry
        if isinstance(params, list):
            return error_response(
                request_id,
                protocol.INVALID_PARAMS,
                "Invalid params: pass params by name, as an object",
            )
        try:
            arguments = msgspec.convert(params, struct)
        except msgspec.ValidationError as exc:
            return error_response(request_id, protocol.INVALID_PARAMS, f"Invalid params: {exc}")
        try:
            result = await handler(arguments)
        except NxuskitError as exc:
            return error_answer(request_id, exc)
        except Exception:
            log.exception("internal error in %s", method)
            return error_response(
                request_id, protocol.INTERNAL_ERROR, "Internal error: see the nxuskitd log"
            )
        return {"jsonrpc": "2.0", "id": request_id, "result": result}
