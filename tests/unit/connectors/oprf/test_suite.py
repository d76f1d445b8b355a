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
    combine_outputs,
    decode_blob,
    encode_elements,
    key_info,
    oprf_input,
    split_binding_batch,
    split_elements,
)

outputs = st.binary(min_size=OUTPUT_BYTES, max_size=OUTPUT_BYTES)
elements = st.lists(st.binary(min_size=ELEMENT_BYTES, max_size=ELEMENT_BYTES), min_size=1)


def test_input_and_key_info_strings() -> None:
    assert oprf_input(Kind.PHONE, "+31612345678") == b"ppsgate:v2:phone:+31612345678"
    assert oprf_input(Kind.EMAIL, "jörg@example.nl") == "ppsgate:v2:email:jörg@example.nl".encode()
    assert key_info(7, Kind.IBAN) == b"ppsgate:v2:evaluator:7:iban"


@given(outputs, outputs)
def test_combine_is_sha256_of_label_and_outputs(first: bytes, second: bytes) -> None:
    token = combine_outputs([first, second])
    assert token == hashlib.sha256(b"ppsgate:v2:token:" + first + second).hexdigest()
    assert len(token) == 64
    assert token == token.lower()
    if first != second:
        assert combine_outputs([second, first]) != token  # the published order matters


def test_combine_refuses_wrong_length() -> None:
    with pytest.raises(ValueError, match="64 bytes"):
        combine_outputs([b"\x00" * 32, b"\x00" * 64])


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


def test_binding_cannot_verify_a_proof_over_another_evaluators_output() -> None:
    """Why v2 composes its evaluators in parallel, not in a chain (docs/oprf.md).

    Verifying evaluator B's proof in a chain needs a client whose blinded element is A's
    output; the binding builds clients only by blinding a fresh input with a random blind
    and offers no way to build one around a given element, nor a standalone proof check.
    If this test fails, a newer binding may make the chain verifiable: revisit the design.
    """
    from voprf import ristretto

    public = {name for name in dir(ristretto.Client) if not name.startswith("_")}
    assert public == {"blind", "finalize", "finalize_batch"}
    assert not [name for name in dir(ristretto) if "verify" in name.lower()]
    proof_methods = [name for name in dir(ristretto.Proof) if not name.startswith("_")]
    assert proof_methods == ["deserialize", "serialize"]
