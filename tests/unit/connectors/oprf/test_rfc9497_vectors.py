"""RFC 9497 test vectors (ristretto255-SHA512, modes 0 and 1) against both implementations.

The connector's side (:mod:`connectors.oprf.protocol` over libsodium) is checked byte for
byte: ``DeriveKeyPair``, ``Blind`` with the vectors' blinds, ``BlindEvaluate``, ``Finalize``
and ``Evaluate`` in both modes, and in mode 1 the vectors' batched proofs, which must verify —
and must stop verifying when any element, the key or the proof changes. The evaluators' side
(the ``voprf`` binding of the Rust crate, mode 1 only) is checked on what it exposes: its key
derivation, its evaluation of the vectors' blinded elements, its outputs, and proofs it makes,
which the connector's verifier must accept. A few RFC 9380 ``expand_message_xmd`` answers
are transcribed below because every hash in the suite goes through it.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from voprf import ristretto

from connectors.oprf import group, protocol
from connectors.oprf.answers import MalformedEvaluation, ProofRejected, check_answer
from connectors.oprf.protocol import Mode
from connectors.oprf.suite import SUITE, split_binding_batch
from tests.support.oprf import answer

# RFC 9380, Appendix K.3: expand_message_xmd(SHA-512), DST QUUX-V01-CS02-with-expander-SHA512-256.
XMD_DST = b"QUUX-V01-CS02-with-expander-SHA512-256"
XMD_ANSWERS = [
    (b"", 0x20, "6b9a7312411d92f921c6f68ca0b6380730a1a4d982c507211a90964c394179ba"),
    (b"abc", 0x20, "0da749f12fbe5483eb066a5f595055679b976e93abe9be6f0f6318bce7aca8dc"),
    (
        b"abc",
        0x80,
        "7f1dddd13c08b543f2e2037b14cefb255b44c83cc397c1786d975653e36a6b11bdd7732d8b38adb4a0edc26a0"
        "cef4bb45217135456e58fbca1703cd6032cb1347ee720b87972d63fbf232587043ed2901bce7f22610c04197"
        "51c065922b488431851041310ad659e4b23520e1772ab29dcdeb2002222a363f0c2b1c972b3efe1",
    ),
]


def _suite(test_vectors: Path, mode: Mode) -> dict[str, Any]:
    vectors = json.loads((test_vectors / "rfc9497" / "allVectors.json").read_text())
    (found,) = [s for s in vectors if s["identifier"] == SUITE and s["mode"] == mode]
    return dict(found)


def _list(value: str) -> list[bytes]:
    return [bytes.fromhex(part) for part in value.split(",")]


def _cases(test_vectors: Path, mode: Mode) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    suite = _suite(test_vectors, mode)
    return [(suite, vector) for vector in suite["vectors"]]


@pytest.fixture(scope="module")
def vectors(test_vectors: Path) -> dict[Mode, dict[str, Any]]:
    return {mode: _suite(test_vectors, mode) for mode in Mode}


@pytest.mark.parametrize(("message", "length", "expected"), XMD_ANSWERS)
def test_expand_message_xmd_sha512_matches_rfc9380(
    message: bytes, length: int, expected: str
) -> None:
    assert protocol.expand_message_xmd(message, XMD_DST, length).hex() == expected


def test_context_strings() -> None:
    assert protocol.context_string(Mode.OPRF) == b"OPRFV1-\x00-ristretto255-SHA512"
    assert protocol.context_string(Mode.VOPRF) == b"OPRFV1-\x01-ristretto255-SHA512"


@pytest.mark.parametrize("mode", list(Mode))
def test_derive_key_pair(vectors: dict[Mode, dict[str, Any]], mode: Mode) -> None:
    suite = vectors[mode]
    secret, public = protocol.derive_key_pair(
        bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"]), mode
    )
    assert secret.hex() == suite["skSm"]
    if mode is Mode.VOPRF:
        assert public.hex() == suite["pkSm"]


@pytest.mark.parametrize("mode", list(Mode))
def test_the_group_dst_is_the_vectors(vectors: dict[Mode, dict[str, Any]], mode: Mode) -> None:
    assert bytes.fromhex(vectors[mode]["groupDST"]) == b"HashToGroup-" + protocol.context_string(
        mode
    )


@pytest.mark.parametrize("mode", list(Mode))
def test_blind_evaluate_finalize_match_every_vector(
    vectors: dict[Mode, dict[str, Any]], mode: Mode
) -> None:
    suite = vectors[mode]
    secret = bytes.fromhex(suite["skSm"])
    checked = 0
    for vector in suite["vectors"]:
        inputs, blinds = _list(vector["Input"]), _list(vector["Blind"])
        blinded, evaluated = _list(vector["BlindedElement"]), _list(vector["EvaluationElement"])
        outputs = _list(vector["Output"])
        assert len(inputs) == vector["Batch"]
        for data, blind, c_i, d_i, y in zip(
            inputs, blinds, blinded, evaluated, outputs, strict=True
        ):
            assert protocol.blind(data, mode, blind_scalar=blind) == (blind, c_i)
            assert protocol.blind_evaluate(secret, c_i) == d_i
            assert protocol.finalize(data, blind, d_i) == y
            assert protocol.evaluate(secret, data, mode) == y
            checked += 1
    assert checked == {Mode.OPRF: 2, Mode.VOPRF: 4}[mode]


@pytest.mark.parametrize("mode", list(Mode))
def test_chunk_wide_blind_and_finalize_match_every_vector(
    vectors: dict[Mode, dict[str, Any]], mode: Mode
) -> None:
    """The batched forms the connector runs (one call per chunk, Montgomery's inversion)."""
    for vector in vectors[mode]["vectors"]:
        inputs, blinds = _list(vector["Input"]), _list(vector["Blind"])
        assert protocol.blind_many(inputs, mode, blind_scalars=blinds) == (
            blinds,
            _list(vector["BlindedElement"]),
        )
        outputs = protocol.finalize_many(inputs, blinds, _list(vector["EvaluationElement"]))
        assert outputs == _list(vector["Output"])


def test_mode0_and_mode1_differ_for_the_same_key_and_input(
    vectors: dict[Mode, dict[str, Any]],
) -> None:
    secret = bytes.fromhex(vectors[Mode.VOPRF]["skSm"])
    data = _list(vectors[Mode.VOPRF]["vectors"][0]["Input"])[0]
    assert protocol.evaluate(secret, data, Mode.OPRF) != protocol.evaluate(secret, data, Mode.VOPRF)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_mode1_vector_proofs_verify(vectors: dict[Mode, dict[str, Any]], index: int) -> None:
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][index]
    public = bytes.fromhex(suite["pkSm"])
    sent, evaluated = b"".join(_list(vector["BlindedElement"])), _list(vector["EvaluationElement"])
    proof = bytes.fromhex(vector["Proof"]["proof"])
    check_answer(sent, b"".join(evaluated), proof, public)


@pytest.mark.parametrize("index", [0, 1, 2])
def test_mode1_vector_proofs_refuse_any_change(
    vectors: dict[Mode, dict[str, Any]], index: int
) -> None:
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][index]
    public = bytes.fromhex(suite["pkSm"])
    sent, evaluated = (
        b"".join(_list(vector["BlindedElement"])),
        b"".join(_list(vector["EvaluationElement"])),
    )
    proof = bytes.fromhex(vector["Proof"]["proof"])
    other_key = protocol.derive_key_pair(b"\x5a" * 32, b"other", Mode.VOPRF)[1]
    with pytest.raises(ProofRejected):
        check_answer(sent, evaluated, proof, other_key)
    other_sent = protocol.blind(b"another input", Mode.VOPRF)[1]
    with pytest.raises(ProofRejected):  # another blinded element in the first place
        check_answer(other_sent + sent[32:], evaluated, proof, public)
    with pytest.raises(ProofRejected):  # another valid element as the answer
        check_answer(sent, public + evaluated[32:], proof, public)
    swapped = proof[32:] + proof[:32]
    with pytest.raises((ProofRejected, MalformedEvaluation)):
        check_answer(sent, evaluated, swapped, public)
    with pytest.raises(MalformedEvaluation):
        check_answer(sent, evaluated, proof[:32] + b"\xff" * 32, public)


def test_mode1_batch_proof_binds_the_order(vectors: dict[Mode, dict[str, Any]]) -> None:
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][2]
    blinded, evaluated = _list(vector["BlindedElement"]), _list(vector["EvaluationElement"])
    with pytest.raises(ProofRejected):
        check_answer(
            b"".join(reversed(blinded)),
            b"".join(reversed(evaluated)),
            bytes.fromhex(vector["Proof"]["proof"]),
            bytes.fromhex(suite["pkSm"]),
        )


# The evaluators' implementation: the voprf binding (mode 1 only).


@pytest.fixture(scope="module")
def binding(vectors: dict[Mode, dict[str, Any]]) -> ristretto.Evaluator:
    suite = vectors[Mode.VOPRF]
    return ristretto.Evaluator.from_seed(
        bytes.fromhex(suite["seed"]), bytes.fromhex(suite["keyInfo"])
    )


def test_binding_derives_the_vector_key(
    vectors: dict[Mode, dict[str, Any]], binding: ristretto.Evaluator
) -> None:
    assert binding.public_key.serialize().hex() == vectors[Mode.VOPRF]["pkSm"]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_binding_evaluations_and_outputs_match_the_vectors(
    vectors: dict[Mode, dict[str, Any]], binding: ristretto.Evaluator, index: int
) -> None:
    vector = vectors[Mode.VOPRF]["vectors"][index]
    blinded = [ristretto.BlindedInput.deserialize(b) for b in _list(vector["BlindedElement"])]
    evaluated, _proof = split_binding_batch(binding.evaluate_batch(blinded).serialize())
    assert evaluated == b"".join(_list(vector["EvaluationElement"]))
    inputs = _list(vector["Input"])
    assert [binding.evaluate_known_input(x) for x in inputs] == _list(vector["Output"])


@pytest.mark.parametrize("index", [0, 1, 2])
def test_binding_proofs_verify_with_the_connectors_check_and_reach_the_outputs(
    vectors: dict[Mode, dict[str, Any]], binding: ristretto.Evaluator, index: int
) -> None:
    """The Rust crate's proofs (random nonces) against ppsgate's verifier, then finalised."""
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][index]
    inputs, blinds = _list(vector["Input"]), _list(vector["Blind"])
    sent = b"".join(_list(vector["BlindedElement"]))
    evaluated, proof = answer(binding, sent)
    check_answer(sent, evaluated, proof, bytes.fromhex(suite["pkSm"]))
    outputs = [
        protocol.finalize(x, blind, evaluated[32 * i : 32 * (i + 1)])
        for i, (x, blind) in enumerate(zip(inputs, blinds, strict=True))
    ]
    assert outputs == _list(vector["Output"])
    impostor = ristretto.Evaluator.from_seed(b"\x5a" * 32, bytes.fromhex(suite["keyInfo"]))
    with pytest.raises(ProofRejected):
        check_answer(sent, *answer(impostor, sent), bytes.fromhex(suite["pkSm"]))


def test_non_canonical_encodings_are_refused_before_the_proof(
    vectors: dict[Mode, dict[str, Any]],
) -> None:
    """libsodium reduces scalars and ignores an element's top bit; the RFC's parser does not."""
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][2]
    public = bytes.fromhex(suite["pkSm"])
    blinded, evaluated = _list(vector["BlindedElement"]), _list(vector["EvaluationElement"])
    proof = bytes.fromhex(vector["Proof"]["proof"])
    assert protocol.verify_proof(public, blinded, evaluated, proof)
    order = 2**252 + 27742317777372353535851937790883648493
    response = int.from_bytes(proof[32:], "little")
    unreduced = proof[:32] + (response + order).to_bytes(32, "little")
    top_bit = proof[:32] + (response | 2**255).to_bytes(32, "little")
    flagged = [evaluated[0][:31] + bytes([evaluated[0][31] | 0x80]), *evaluated[1:]]
    assert not protocol.verify_proof(public, blinded, evaluated, unreduced)
    assert not protocol.verify_proof(public, blinded, evaluated, top_bit)
    assert not protocol.verify_proof(public, blinded, flagged, proof)
    assert not protocol.verify_proof(public, [], [], proof)
    sent = b"".join(blinded)
    for bad_proof in (unreduced, top_bit):
        with pytest.raises(MalformedEvaluation, match="canonical scalars"):
            check_answer(sent, b"".join(evaluated), bad_proof, public)
    with pytest.raises(MalformedEvaluation, match="not group elements"):
        check_answer(sent, b"".join(flagged), proof, public)
    with pytest.raises(MalformedEvaluation, match="not whole 32-byte elements"):
        check_answer(sent, b"".join(evaluated)[:-1], proof, public)


def test_an_undecodable_element_is_malformed_not_a_false_proof(
    vectors: dict[Mode, dict[str, Any]],
) -> None:
    """Top bit clear and not the identity, yet no element: caught by the decoding in the check."""
    suite = vectors[Mode.VOPRF]
    vector = suite["vectors"][2]
    public = bytes.fromhex(suite["pkSm"])
    blinded, evaluated = _list(vector["BlindedElement"]), _list(vector["EvaluationElement"])
    proof = bytes.fromhex(vector["Proof"]["proof"])
    undecodable = next(
        candidate
        for candidate in (bytes([value]) + bytes(31) for value in range(1, 128))
        if not group.is_element(candidate)
    )
    assert group.is_encoding(undecodable)
    for position in range(len(evaluated)):
        answered = [*evaluated[:position], undecodable, *evaluated[position + 1 :]]
        with pytest.raises(MalformedEvaluation, match="not group elements"):
            check_answer(b"".join(blinded), b"".join(answered), proof, public)
