"""Entry formats v1 and v2 (with its commitment nonce) and purgeable detail records."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.canonical import canonical_json
from audit.entry import Entry, decode_detail, detail_digest, encode_detail, entry_seq
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


@given(entries)
def test_the_number_is_read_exactly_without_decoding(entry: Entry) -> None:
    assert entry_seq(entry.encode()) == entry.seq


def test_the_number_is_not_taken_from_counts_or_guessed() -> None:
    entry = _entry(seq=12, counts={"request_id": 3, "seq": 5, "tag": 9})
    assert entry_seq(entry.encode()) == 12
    assert entry_seq(V1_BYTES) == 7
    data = entry.encode()
    for bad in (
        data.replace(b'"seq":12', b'"seq":"12"'),
        data.replace(b'"seq":12', b'"seq":012'),
        data.replace(b'"seq":12', b'"seq":true'),
        data.replace(b'"seq":12', b'"seq":9007199254740992'),
        data + data,  # two top-level numbers: refused, not guessed
        b"{}",
    ):
        with pytest.raises(EntryError, match="sequence number"):
            entry_seq(bad)


@pytest.mark.parametrize(
    ("old", "new", "words"),
    [
        (b'"hits":1', b'"hits":1,"hits":1', "duplicate key"),
        (b'"hits":1', b'"hits":NaN', "NaN is not valid JSON"),
        (b'"hits":1', b'"hits":1.0', "floats are not allowed"),
        (b'"seq":7', b'"seq":9007199254740992', "exceeds"),
        (b'"user":null', b'"user":"\\ud800"', "canonical"),
        (b'"hits":1,"items":3', b'"items":3,"hits":1', "canonical form"),
    ],
)
def test_the_fast_decoder_refuses_what_the_general_one_refuses(
    old: bytes, new: bytes, words: str
) -> None:
    data = _entry().encode()
    assert old in data
    with pytest.raises(EntryError, match=words):
        Entry.decode(data.replace(old, new, 1))


def test_decoding_refuses_extra_missing_or_non_canonical() -> None:
    value = _entry().to_json()
    with pytest.raises(EntryError, match="v2 fields"):
        Entry.decode(canonical_json({**value, "iban": "NL91ABNA0417164300"}))
    del value["counts"]
    with pytest.raises(EntryError, match="v2 fields"):
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


# A v1 entry as gateways before format v2 wrote it (no nonce); such leaves are signed already.
V1_BYTES = (
    b'{"actor":{"client":"bank-a-screening","partner":"bank-a","user":null},'
    b'"counts":{"hits":1,"items":3},"decision":"allow","detail_sha256":null,'
    b'"legal_basis":"gdpr-6-1-f","policy_digest":"sha256:' + b"0" * 64 + b'",'
    b'"purpose":"fraud-prevention","reasons":["purpose-registered"],"request_id":"0123abcd",'
    b'"seq":7,"tag":"match:query:allow","time":"2026-11-29T09:00:00.000000Z","v":1}'
)


def test_old_v1_entries_keep_their_bytes() -> None:
    entry = Entry.decode(V1_BYTES)
    assert (entry.version, entry.nonce) == (1, None)
    assert entry.encode() == V1_BYTES
    assert entry == _entry(version=1, nonce=None)
    with pytest.raises(EntryError, match="v1 fields"):
        Entry.decode(canonical_json({**json.loads(V1_BYTES), "nonce": "0" * 32}))


def test_new_entries_are_v2_with_a_fresh_128_bit_nonce() -> None:
    first, second = _entry(), _entry()
    assert first.version == second.version == 2
    assert first.nonce is not None
    assert len(bytes.fromhex(first.nonce)) == 16
    assert first.nonce != second.nonce
    data = first.encode()
    assert b'"nonce":"' + first.nonce.encode() + b'"' in data
    assert b'"v":2' in data
    assert Entry.decode(data) == first
    # Equal contents, different leaves: a guessed entry cannot be confirmed by its hash.
    assert hashlib.sha256(b"\0" + data).digest() != hashlib.sha256(b"\0" + second.encode())


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"version": 2, "nonce": None}, "nonce"),
        ({"version": 2, "nonce": "AB" * 16}, "nonce"),
        ({"version": 2, "nonce": "ab" * 15}, "nonce"),
        ({"version": 1, "nonce": "ab" * 16}, "v1 entry has no nonce"),
        ({"version": 3}, "version"),
        ({"version": True}, "version"),
    ],
)
def test_version_and_nonce_must_agree(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(EntryError, match=words):
        _entry(**overrides)


def test_unknown_versions_are_refused_when_decoding() -> None:
    with pytest.raises(EntryError, match="version 3"):
        Entry.decode(V1_BYTES.replace(b'"v":1', b'"v":3'))
