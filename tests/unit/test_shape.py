"""nxuskit.shape's field checks: optional fields, nested shapes and unions."""

from __future__ import annotations

import pytest

from nxuskit.answers import Resolution, StoreInfo
from nxuskit.errors import ProtocolError

BASE = {"provider": "openai", "secret": "sk-x", "source": "store", "auth_method": "api_key"}


def test_optional_nested_shape_null_absent_or_present() -> None:
    assert Resolution.from_wire({**BASE, "reuse": None}).reuse is None
    assert Resolution.from_wire(BASE).reuse is None
    reuse = Resolution.from_wire({**BASE, "reuse": {"generation": 3, "seconds": 1.5}}).reuse
    assert reuse is not None
    assert (reuse.generation, reuse.seconds, reuse.idle) == (3, 1.5, None)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("reuse", {"generation": "3", "seconds": 1}),  # a nested shape's own field is wrong
        ("reuse", {"seconds": 1}),  # a nested shape lacks a required field
        ("reuse", 5),  # neither the shape nor null
        ("expires_at", "soon"),
        ("auth_method", None),  # required and not optional: null is refused
    ],
)
def test_malformed_fields_are_refused_by_name(field: str, value: object) -> None:
    with pytest.raises(ProtocolError, match=repr(field)):
        Resolution.from_wire({**BASE, field: value}, "auth.resolve")


def test_null_for_a_required_string_is_refused() -> None:
    with pytest.raises(ProtocolError, match="'kind'"):
        StoreInfo.from_wire({"kind": None, "description": "d", "reason": "r"})
