"""Canonical JSON: deterministic bytes, RFC 8785 key order, refusal of ambiguity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import MAX_SAFE_INTEGER, canonical_json, parse_canonical
from audit.errors import CanonicalJSONError

values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-MAX_SAFE_INTEGER, MAX_SAFE_INTEGER)
    | st.text(alphabet=st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.text(alphabet=st.characters(exclude_categories=["Cs"])), children, max_size=4
        )
    ),
    max_leaves=12,
)


@given(values)
def test_round_trip_and_determinism(value: Any) -> None:
    encoded = canonical_json(value)
    assert parse_canonical(encoded) == value
    assert canonical_json(json.loads(encoded)) == encoded
    assert encoded == json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode() or _has_astral_keys(value)


def _has_astral_keys(value: Any) -> bool:
    """Python sorts by code point, JCS by UTF-16 unit: they differ only for such keys."""
    if isinstance(value, dict):
        return any(max(map(ord, k), default=0) > 0xFFFF for k in value) or any(
            _has_astral_keys(v) for v in value.values()
        )
    if isinstance(value, list):
        return any(_has_astral_keys(v) for v in value)
    return False


@given(st.dictionaries(st.text(max_size=3), st.integers(0, 9), min_size=2, max_size=6))
def test_key_order_ignores_insertion_order(mapping: dict[str, int]) -> None:
    reversed_mapping = dict(reversed(list(mapping.items())))
    assert canonical_json(mapping) == canonical_json(reversed_mapping)


def test_known_bytes() -> None:
    assert (
        canonical_json({"b": [1, None, True], "a": "é\n"})
        == '{"a":"é\\n","b":[1,null,true]}'.encode()
    )
    # RFC 8785 orders keys by UTF-16 code units: U+1F600 is D83D DE00, which sorts before
    # U+FB33, although its code point is larger (plain code point order would differ).
    assert canonical_json({"\ufb33": 1, "\U0001f600": 2}) == '{"\U0001f600":2,"\ufb33":1}'.encode()


@pytest.mark.parametrize(
    "value",
    [1.5, float("nan"), 2**53, -(2**53), {1: "a"}, {"a": {1, 2}}, b"bytes", "\ud800"],
)
def test_refused_values(value: Any) -> None:
    with pytest.raises(CanonicalJSONError):
        canonical_json(value)


@pytest.mark.parametrize(
    "raw",
    [b'{"b":1,"a":2}', b'{"a": 1}', b'{"a":1,"a":1}', b"1.0", b"NaN", b"\xff", b'"\\u00e9"', b"{"],
)
def test_non_canonical_input_is_refused(raw: bytes) -> None:
    with pytest.raises(CanonicalJSONError):
        parse_canonical(raw)
