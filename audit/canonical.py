"""Canonical JSON: the exact bytes a Merkle leaf commits to.

Two parties must turn the same entry into the same bytes, so the encoding leaves no
choices: object keys sorted (by UTF-16 code units, as RFC 8785 JCS does), no whitespace,
UTF-8 without escaping non-ASCII, and only the value types whose JCS form is unambiguous
(strings, integers within ±(2**53 - 1), booleans, null, arrays, objects). Floats are refused
rather than normalised: audit entries count things, they never measure them. For this subset
the output is byte-identical to RFC 8785, so any JCS library can re-create a leaf.
"""

from __future__ import annotations

import json
from typing import Any

from audit.errors import CanonicalJSONError

MAX_SAFE_INTEGER = 2**53 - 1

__all__ = ["MAX_SAFE_INTEGER", "canonical_json", "parse_canonical"]


def _jcs_key(key: str) -> bytes:
    return key.encode("utf-16-be", "surrogatepass")


def _where(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)


def _check(value: Any, path: tuple[str | int, ...] = ()) -> Any:
    """Validate the subset and return a copy whose dicts are in canonical key order.

    The path of a value is only rendered when it is reported: audit details list thousands
    of tokens, and formatting a location for each one cost more than checking it.
    """
    kind = type(value)
    if kind is str or kind is bool or value is None:
        return value
    if kind is int or (isinstance(value, int) and not isinstance(value, bool)):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJSONError(f"{_where(path)}: integer {value} exceeds ±(2**53 - 1)")
        return value
    if isinstance(value, bool | str):
        return value
    if isinstance(value, float):
        raise CanonicalJSONError(f"{_where(path)}: floats are not allowed in canonical JSON")
    if isinstance(value, list | tuple):
        return [
            item if type(item) is str else _check(item, (*path, index))
            for index, item in enumerate(value)
        ]
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalJSONError(f"{_where(path)}: object key {key!r} is not a string")
        # For ASCII keys code-point order is UTF-16 order; only other keys need encoding.
        ascii_keys = all(key.isascii() for key in value)
        ordered = sorted(value) if ascii_keys else sorted(value, key=_jcs_key)
        return {
            key: value[key] if type(value[key]) is str else _check(value[key], (*path, key))
            for key in ordered
        }
    raise CanonicalJSONError(f"{_where(path)}: {type(value).__name__} is not a JSON value")


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` as canonical JSON bytes."""
    ordered = _check(value)
    text = json.dumps(ordered, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CanonicalJSONError(f"$: string holds a lone surrogate ({exc.reason})") from None


def _reject_constant(name: str) -> Any:
    raise CanonicalJSONError(f"{name} is not valid JSON")


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise CanonicalJSONError(f"duplicate key {key!r}")
        result[key] = value
    return result


def parse_canonical(data: bytes) -> Any:
    """Decode bytes that must already be canonical; anything else is refused.

    A verifier uses this so that two different byte strings can never be presented as
    "the same entry": the bytes must re-encode to themselves.
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CanonicalJSONError(f"not UTF-8 at byte {exc.start}") from None
    try:
        value = json.loads(
            text, object_pairs_hook=_reject_duplicates, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise CanonicalJSONError(f"not JSON: {exc.msg} at position {exc.pos}") from None
    if canonical_json(value) != data:
        raise CanonicalJSONError("JSON is not in canonical form (key order, spacing, escapes)")
    return value
