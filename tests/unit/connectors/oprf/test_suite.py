"""The byte layouts of spec v2 (pure functions: hypothesis)."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connectors.canonical import Kind
from connectors.oprf.suite import (
    ELEMENT_BYTES,
    OUTPUT_BYTES,
    binding_batch_bytes,
    decode_blob,
    encode_elements,
    key_info,
    oprf_input,
    split_binding_batch,
    split_elements,
    token_from_output,
)

outputs = st.binary(min_size=OUTPUT_BYTES, max_size=OUTPUT_BYTES)
elements = st.lists(st.binary(min_size=ELEMENT_BYTES, max_size=ELEMENT_BYTES), min_size=1)


def test_input_and_key_info_strings() -> None:
    assert oprf_input(Kind.PHONE, "+31612345678") == b"ppsgate:v2:phone:+31612345678"
    assert oprf_input(Kind.EMAIL, "jörg@example.nl") == "ppsgate:v2:email:jörg@example.nl".encode()
    assert key_info(7, Kind.IBAN) == b"ppsgate:v2:evaluator:7:iban"


@given(outputs)
def test_token_is_sha256_of_label_and_output(output: bytes) -> None:
    token = token_from_output(output)
    assert token == hashlib.sha256(b"ppsgate:v2:token:" + output).hexdigest()
    assert len(token) == 64
    assert token == token.lower()


def test_token_refuses_wrong_length() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        token_from_output(b"\x00" * 32)


@given(elements)
def test_elements_round_trip(items: list[bytes]) -> None:
    encoded = encode_elements(items)
    assert split_elements(decode_blob(encoded, unit=ELEMENT_BYTES, field="x")) == items


@given(st.binary(max_size=200).filter(lambda raw: len(raw) % ELEMENT_BYTES != 0))
def test_partial_elements_are_refused(raw: bytes) -> None:
    import base64

    with pytest.raises(ValueError, match="field-name"):
        decode_blob(base64.b64encode(raw).decode(), unit=ELEMENT_BYTES, field="field-name")


def test_non_base64_is_refused() -> None:
    with pytest.raises(ValueError, match="not valid base64"):
        decode_blob("not base64!", unit=ELEMENT_BYTES, field="blinded_elements")


@given(st.binary(min_size=64, max_size=64), elements)
def test_binding_layout_round_trip(proof: bytes, items: list[bytes]) -> None:
    joined = b"".join(items)
    assert split_binding_batch(binding_batch_bytes(joined, proof)) == (joined, proof)
