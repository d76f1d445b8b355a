"""Entry format v1 and purgeable detail records."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import canonical_json
from audit.entry import Entry, decode_detail, detail_digest, encode_detail
from audit.errors import EntryError

TOKEN = "ab" * 32


def _entry(**overrides: object) -> Entry:
    fields: dict[str, object] = {
        "seq": 7,
        "time": "2026-11-29T09:00:00.000000Z",
        "request_id": "0123abcd",
        "tag": "match:query:allow",
        "actor_partner": "bank-a",
        "actor_client": "bank-a-screening",
        "purpose": "fraud-prevention",
        "legal_basis": "gdpr-6-1-f",
        "decision": "allow",
        "reasons": ("purpose-registered",),
        "policy_digest": "sha256:" + "0" * 64,
        "counts": {"items": 3, "hits": 1},
    }
    fields.update(overrides)
    return Entry(**fields)  # type: ignore[arg-type]


def test_encoding_is_canonical_and_round_trips() -> None:
    entry = _entry()
    data = entry.encode()
    assert data == canonical_json(entry.to_json())
    assert data.startswith(b'{"actor":{"client":"bank-a-screening","partner":"bank-a","user":null}')
    assert Entry.decode(data) == entry


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("actor_user", "alice@example.nl"),
        ("actor_partner", "bank a"),
        ("purpose", ""),
        ("tag", "nocolon"),
        ("decision", "maybe"),
        ("time", "2026-11-29 09:00:00"),
        ("counts", {"items": -1}),
        ("counts", {"Items": 1}),
        ("counts", {"items": True}),
        ("reasons", ("ok", "not ok")),
        ("detail_sha256", "xyz"),
        ("seq", -1),
    ],
)
def test_fields_that_could_carry_identifiers_are_narrow(field: str, value: object) -> None:
    with pytest.raises(EntryError, match=field.split("_", maxsplit=1)[0]):
        _entry(**{field: value})


_ids = st.from_regex(r"[A-Za-z0-9_.:/-]{1,20}", fullmatch=True)
entries = st.builds(
    Entry,
    seq=st.integers(0, 2**53 - 1),
    time=st.just("2026-11-29T09:00:00.123456Z"),
    request_id=_ids,
    tag=st.from_regex(r"[a-z0-9_-]{1,8}(:[a-z0-9_-]{1,8}){1,2}", fullmatch=True),
    actor_partner=st.none() | _ids,
    actor_user=st.none() | _ids,
    legal_basis=st.none() | st.from_regex(r"[A-Za-z0-9_.:/()-]{1,20}", fullmatch=True),
    decision=st.sampled_from([None, "allow", "deny"]),
    reasons=st.lists(_ids, max_size=4).map(tuple),
    counts=st.dictionaries(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True), st.integers(0, 2**53 - 1), max_size=5
    ),
    detail_sha256=st.none() | st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
)


@given(entries)
def test_fast_encoding_equals_the_general_canonical_form(entry: Entry) -> None:
    assert entry.encode() == canonical_json(entry.to_json())
    assert Entry.decode(entry.encode()) == entry


def test_decoding_refuses_extra_missing_or_non_canonical() -> None:
    value = _entry().to_json()
    with pytest.raises(EntryError, match="v1 fields"):
        Entry.decode(canonical_json({**value, "iban": "NL91ABNA0417164300"}))
    del value["counts"]
    with pytest.raises(EntryError, match="v1 fields"):
        Entry.decode(canonical_json(value))
    with pytest.raises(EntryError, match="canonical"):
        Entry.decode(_entry().encode().replace(b":", b": ", 1))


def test_detail_records_are_salted_and_digested() -> None:
    detail = {"tokens": [TOKEN], "disclosed": {TOKEN: ["category", "count"]}}
    first, second = encode_detail(detail), encode_detail(detail)
    assert first != second, "a fresh salt makes equal details unlinkable after purge"
    assert detail_digest(first) == hashlib.sha256(first).hexdigest()
    parsed = decode_detail(first)
    assert parsed["tokens"] == [TOKEN]
    assert len(parsed["salt"]) == 32
    assert encode_detail(detail, salt=bytes(16)) == encode_detail(detail, salt=bytes(16))


@pytest.mark.parametrize(
    "detail",
    [
        {"tokens": ["AB" * 32]},
        {"tokens": ["ab" * 31]},
        {"tokens": [TOKEN, TOKEN]},
        {"tokens": "not a list"},
        {"tokens": [TOKEN], "disclosed": {"cd" * 32: ["category"]}},
        {"tokens": [TOKEN], "disclosed": ["category"]},
        {"salt": "chosen"},
        {"score": 0.5},
    ],
)
def test_bad_details_are_refused(detail: dict[str, object]) -> None:
    with pytest.raises(EntryError):
        encode_detail(detail)
