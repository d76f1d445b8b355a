"""Type keys, tokens, the tokeniser interface and the per-row canonicaliser."""

from __future__ import annotations

import hashlib
import hmac
import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connectors import InvalidIdentifier
from connectors.canonical.kinds import Kind
from connectors.errors import KeyMaterialError
from connectors.hashing import (
    HmacTokeniserV1,
    RowCanonicaliser,
    Tokeniser,
    TypeKeys,
    parse_master_salt_hex,
    token,
    type_key,
)

SALT = bytes(range(32))
_SALTS = st.binary(min_size=32, max_size=32)
_CANONICAL = st.text(max_size=40)


def test_type_key_is_32_bytes_and_differs_per_kind() -> None:
    keys = {kind: type_key(SALT, kind) for kind in Kind}
    assert all(len(key) == 32 for key in keys.values())
    assert len(set(keys.values())) == len(Kind)
    assert type_key(SALT, Kind.IBAN) == keys[Kind.IBAN]


@pytest.mark.parametrize("size", [0, 16, 31, 33, 64])
def test_type_key_refuses_a_master_salt_of_the_wrong_size(size: int) -> None:
    with pytest.raises(KeyMaterialError, match="32 bytes"):
        type_key(bytes(size), Kind.IBAN)


def test_token_is_lowercase_hex_hmac_over_the_prefixed_message() -> None:
    key = type_key(SALT, Kind.EMAIL)
    expected = hmac.new(key, b"ppsgate:v1:email:jan@example.nl", hashlib.sha256).hexdigest()
    result = token(Kind.EMAIL, "jan@example.nl", key)
    assert result == expected
    assert len(result) == 64
    assert result == result.lower()


def test_message_is_utf8() -> None:
    key = type_key(SALT, Kind.EMAIL)
    message = "ppsgate:v1:email:jos\u00e9@example.nl".encode()
    assert (
        token(Kind.EMAIL, "jos\u00e9@example.nl", key)
        == hmac.new(key, message, hashlib.sha256).hexdigest()
    )


@settings(max_examples=200, deadline=None)
@given(salt=_SALTS, canonical=_CANONICAL)
def test_tokens_differ_across_kinds_for_the_same_string(salt: bytes, canonical: str) -> None:
    keys = TypeKeys.from_master_salt(salt, epoch=1)
    tokens = {token(kind, canonical, keys[kind]) for kind in Kind}
    assert len(tokens) == len(Kind)


@settings(max_examples=200, deadline=None)
@given(first=_SALTS, second=_SALTS, kind=st.sampled_from(list(Kind)), canonical=_CANONICAL)
def test_a_different_salt_gives_a_different_token(
    first: bytes, second: bytes, kind: Kind, canonical: str
) -> None:
    if first == second:
        return
    assert token(kind, canonical, type_key(first, kind)) != token(
        kind, canonical, type_key(second, kind)
    )


@settings(max_examples=200, deadline=None)
@given(
    salt=_SALTS,
    items=st.lists(st.tuples(st.sampled_from(list(Kind)), _CANONICAL), max_size=20),
)
def test_tokeniser_equals_the_token_function(salt: bytes, items: list[tuple[Kind, str]]) -> None:
    keys = TypeKeys.from_master_salt(salt, epoch=3)
    tokeniser = HmacTokeniserV1(keys)
    expected = [token(kind, canonical, keys[kind]) for kind, canonical in items]
    assert tokeniser.tokens(items) == expected
    for (kind, canonical), value in zip(items, expected, strict=True):
        assert tokeniser.token(kind, canonical) == value


def test_tokeniser_satisfies_the_protocol_and_reports_epoch_and_kinds() -> None:
    tokeniser = HmacTokeniserV1(TypeKeys.from_master_salt(SALT, epoch=7, kinds=[Kind.PHONE]))
    assert isinstance(tokeniser, Tokeniser)
    assert tokeniser.spec_version == "v1"
    assert tokeniser.epoch == 7
    assert tokeniser.kinds == frozenset({Kind.PHONE})


def test_type_keys_can_come_from_a_key_store_instead_of_a_master_salt() -> None:
    issued = {Kind.PHONE: type_key(SALT, Kind.PHONE)}
    keys = TypeKeys(issued, epoch=4)
    assert HmacTokeniserV1(keys).token(Kind.PHONE, "+31612345678") == token(
        Kind.PHONE, "+31612345678", issued[Kind.PHONE]
    )


def test_a_type_that_was_not_issued_cannot_be_hashed() -> None:
    keys = TypeKeys.from_master_salt(SALT, epoch=2, kinds=[Kind.PHONE])
    with pytest.raises(KeyMaterialError, match="no iban key for epoch 2"):
        keys[Kind.IBAN]
    with pytest.raises(KeyMaterialError, match="no iban key"):
        HmacTokeniserV1(keys).token(Kind.IBAN, "NL91ABNA0417164300")


def test_type_keys_validate_their_content() -> None:
    with pytest.raises(KeyMaterialError, match="32 bytes"):
        TypeKeys({Kind.IBAN: b"short"}, epoch=1)
    with pytest.raises(KeyMaterialError, match="unknown identifier type"):
        TypeKeys({"iban": bytes(32)}, epoch=1)  # type: ignore[dict-item]
    with pytest.raises(KeyMaterialError, match="negative"):
        TypeKeys({}, epoch=-1)


def test_type_keys_never_show_key_bytes() -> None:
    keys = TypeKeys.from_master_salt(SALT, epoch=1)
    text = repr(keys) + str(keys)
    for key in keys.values():
        assert key.hex() not in text
        assert repr(key) not in text
    assert "epoch=1" in text
    assert len(keys) == 7
    assert set(keys) == set(Kind)


def test_master_salt_hex_parsing() -> None:
    salt = secrets.token_bytes(32)
    assert parse_master_salt_hex(salt.hex()) == salt
    assert parse_master_salt_hex(f"  {salt.hex().upper()}\r\n") == salt


@pytest.mark.parametrize(
    "text",
    [
        "",
        "00" * 31,
        "00" * 33,
        "zz" * 32,
        "00" * 16 + " " + "00" * 16,
        "0x" + "00" * 31,
        "00" * 32 + "\n00",
    ],
)
def test_master_salt_hex_rejects_anything_else_without_echoing_it(text: str) -> None:
    with pytest.raises(KeyMaterialError) as caught:
        parse_master_salt_hex(text)
    message = caught.value.diagnostics()
    assert "64 hexadecimal characters" in message
    if text.strip():
        assert text.strip() not in message


def test_row_canonicaliser_uses_the_type_column_or_detects() -> None:
    canonicalise = RowCanonicaliser(list(Kind))
    assert canonicalise("NL91 ABNA 0417 1643 00", "iban") == (Kind.IBAN, "NL91ABNA0417164300")
    assert canonicalise("06-12345678", None) == (Kind.PHONE, "+31612345678")
    assert canonicalise("06-12345678", "") == (Kind.PHONE, "+31612345678")
    assert canonicalise("jan@example.nl", " EMAIL ") == (Kind.EMAIL, "jan@example.nl")
    with pytest.raises(InvalidIdentifier, match="unknown identifier type"):
        canonicalise("x", "web page")


def test_row_canonicaliser_rejects_types_without_a_key() -> None:
    canonicalise = RowCanonicaliser([Kind.PHONE])
    with pytest.raises(InvalidIdentifier, match="no iban key") as caught:
        canonicalise("NL91ABNA0417164300", None)
    assert caught.value.kind is Kind.IBAN
