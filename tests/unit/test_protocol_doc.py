"""docs/protocol.md is the contract other languages implement: hold it to the code.

Every method of ``protocol.PARAMS`` has a section; every param, and every field of its
result shape (``answers.RESULTS``, nested shapes included), is named there; every error
kind of ``errors`` is in the error table. A field added in code but not in the doc (or
the other way round, for methods) fails here.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nxuskit import answers, errors, protocol

DOC = Path(__file__).resolve().parents[2] / "docs" / "protocol.md"


def _sections() -> dict[str, str]:
    text = DOC.read_text()
    found: dict[str, str] = {}
    for match in re.finditer(r"^### (\S+)\n(.*?)(?=^#{2,3} |\Z)", text, re.M | re.S):
        found[match.group(1).strip("`")] = match.group(2)
    return found


def _named(field: str, text: str) -> bool:
    return f"`{field}`" in text or f'"{field}":' in text


def _fields(shape: type[answers.Answer]) -> list[tuple[str, type[answers.Answer]]]:
    """Every wire field of ``shape`` and of the shapes nested in it, with its owner."""
    found = []
    for name, _default in shape._fields:
        found.append((shape._wire_names.get(name, name), shape))
    hints: dict[str, str] = {}
    for klass in reversed(shape.__mro__):
        hints.update(vars(klass).get("__annotations__", {}))
    for name, hint in hints.items():
        for nested in re.findall(r"[A-Z]\w+", hint):
            inner = getattr(answers, nested, None)
            if isinstance(inner, type) and issubclass(inner, answers.Answer) and name[0] != "_":
                found += _fields(inner)
    return found


@pytest.mark.parametrize("method", sorted(protocol.PARAMS))
def test_every_method_has_a_section_naming_its_params_and_result_fields(method: str) -> None:
    sections = _sections()
    assert method in sections, f"docs/protocol.md has no '### {method}' section"
    text = sections[method]
    required, optional = protocol.PARAMS[method]
    for param in [*required, *optional]:
        assert _named(param, text), f"{method}: param {param!r} is not described"
    shapes = [answers.RESULTS[method]]
    if method == protocol.LOGIN_WAIT:
        shapes.append(answers.LoginPending)
    for shape in shapes:
        for field, owner in _fields(shape):
            assert _named(field, text), f"{method}: result field {field!r} ({owner.__name__})"


def test_every_method_has_a_result_shape() -> None:
    assert set(answers.RESULTS) == set(protocol.PARAMS)


def test_the_doc_describes_no_method_the_daemon_lacks() -> None:
    described = {name for name in _sections() if re.fullmatch(r"[a-z]+\.[a-z_]+", name)}
    assert described <= set(protocol.PARAMS), described - set(protocol.PARAMS)


def test_every_error_kind_is_in_the_table() -> None:
    text = DOC.read_text()
    for kind, cls in errors._BY_KIND.items():
        row = re.search(rf"^\| {cls.code} \| `{kind}` \|", text, re.M)
        assert row, f"error kind {kind!r} (code {cls.code}) is not in the error table"
