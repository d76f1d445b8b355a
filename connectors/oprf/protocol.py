"""RFC 9497 OPRF/VOPRF with ristretto255-SHA512: the client's side, key derivation and Evaluate.

Why ppsgate carries this at all: the evaluators are *chained* (docs/oprf.md), so the connector
must blind with a blind it can use again after the last hop, and check evaluator B's batched
DLEQ proof over A's output, an element the connector did not blind. The ``voprf`` binding
(used by the evaluators) hides its blinds and only checks proofs over its own blinded elements.
So this module writes out the RFC's client-side *protocol* — the byte layouts, domain
separation, ``HashToGroup``/``HashToScalar`` over ``expand_message_xmd`` and the proof
equations of §2.2 — in the RFC's own words, and leaves every group and scalar operation to
libsodium (:mod:`connectors.oprf.group`). It is checked byte for byte against all of RFC 9497's
ristretto255-SHA512 vectors, modes 0 and 1 including the batched proofs, and, in every v2 run,
against the Rust implementation whose proofs it verifies.

Section numbers refer to RFC 9497; ``expand_message_xmd`` is RFC 9380 §5.3.1.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from enum import IntEnum

from connectors.oprf import group

SUITE_ID = b"ristretto255-SHA512"
HASH_BYTES = 64  # SHA-512 output, the suite's Nh
_BLOCK_BYTES = 128  # SHA-512 input block, expand_message_xmd's s_in_bytes
_MAX_DST = 255
_MAX_INPUT = 2**16 - 1
_MAX_BATCH = 2**16 - 1  # the composite transcript numbers elements with two bytes


class Mode(IntEnum):
    """The RFC 9497 protocol variants this module speaks (POPRF is not used)."""

    OPRF = 0
    VOPRF = 1


class InvalidInputError(ValueError):
    """An input too long for the RFC's two-byte length prefix, or one that maps to the identity."""


class DeriveKeyPairError(ValueError):
    """``DeriveKeyPair`` found no non-zero scalar in 256 attempts (RFC 9497 §3.2.1)."""


def _i2osp(value: int, length: int) -> bytes:
    return value.to_bytes(length, "big")


def _framed(data: bytes) -> bytes:
    """``I2OSP(len(data), 2) || data``: the RFC's length-prefixed field."""
    return _i2osp(len(data), 2) + data


def context_string(mode: Mode) -> bytes:
    """``"OPRFV1-" || I2OSP(mode, 1) || "-" || identifier`` (§3.1)."""
    return b"OPRFV1-" + _i2osp(mode, 1) + b"-" + SUITE_ID


def expand_message_xmd(message: bytes, dst: bytes, length: int) -> bytes:
    """RFC 9380 §5.3.1 with SHA-512: ``length`` uniform bytes bound to ``dst``."""
    if len(dst) > _MAX_DST:
        raise ValueError(f"a domain separation tag is at most {_MAX_DST} bytes")
    blocks = -(-length // HASH_BYTES)
    if blocks > 255 or length > 65535:
        raise ValueError("expand_message_xmd: requested length too large")
    dst_prime = dst + _i2osp(len(dst), 1)
    b_0 = hashlib.sha512(
        bytes(_BLOCK_BYTES) + message + _i2osp(length, 2) + b"\x00" + dst_prime
    ).digest()
    b_i = hashlib.sha512(b_0 + b"\x01" + dst_prime).digest()
    uniform = [b_i]
    for i in range(2, blocks + 1):
        mixed = bytes(x ^ y for x, y in zip(b_0, b_i, strict=True))
        b_i = hashlib.sha512(mixed + _i2osp(i, 1) + dst_prime).digest()
        uniform.append(b_i)
    return b"".join(uniform)[:length]


def _expand_64_many(messages: Sequence[bytes], dst: bytes, *, prefix: bytes = b"") -> list[bytes]:
    """:func:`expand_message_xmd` to 64 bytes of ``prefix || message`` for each message.

    The same bytes, with the constant parts hashed once: SHA-512's state after the zero block
    (and ``prefix``) is copied for each message, and the suffixes are built once.
    """
    if len(dst) > _MAX_DST:
        raise ValueError(f"a domain separation tag is at most {_MAX_DST} bytes")
    dst_prime = dst + _i2osp(len(dst), 1)
    head = hashlib.sha512(bytes(_BLOCK_BYTES) + prefix)
    first_suffix = _i2osp(group.UNIFORM_BYTES, 2) + b"\x00" + dst_prime
    second_suffix = b"\x01" + dst_prime
    sha512 = hashlib.sha512
    out: list[bytes] = []
    for message in messages:
        state = head.copy()
        state.update(message + first_suffix)
        out.append(sha512(state.digest() + second_suffix).digest())
    return out


def hash_to_group(data: bytes, mode: Mode) -> bytes:
    """``HashToGroup`` (§4.1): hash_to_ristretto255 with DST ``"HashToGroup-" || contextString``."""
    uniform = expand_message_xmd(data, b"HashToGroup-" + context_string(mode), group.UNIFORM_BYTES)
    return group.element_from_uniform(uniform)


def hash_to_scalar(data: bytes, mode: Mode, *, dst: bytes | None = None) -> bytes:
    """``HashToScalar`` (§4.1): 64 uniform bytes reduced modulo the group order."""
    tag = dst if dst is not None else b"HashToScalar-" + context_string(mode)
    return group.reduce_wide(expand_message_xmd(data, tag, group.UNIFORM_BYTES))


def derive_key_pair(seed: bytes, info: bytes, mode: Mode) -> tuple[bytes, bytes]:
    """``DeriveKeyPair`` (§3.2.1): (secret scalar, public element) from a 32-byte seed."""
    if len(seed) != group.SCALAR_BYTES:
        raise ValueError(f"a seed is {group.SCALAR_BYTES} bytes, got {len(seed)}")
    derive_input = seed + _framed(info)
    dst = b"DeriveKeyPair" + context_string(mode)
    for counter in range(256):
        secret = hash_to_scalar(derive_input + _i2osp(counter, 1), mode, dst=dst)
        if secret != bytes(group.SCALAR_BYTES):
            return secret, group.mul_base(secret)
    raise DeriveKeyPairError("no non-zero scalar after 256 counters")


def _checked_input(data: bytes) -> bytes:
    if len(data) > _MAX_INPUT:
        raise InvalidInputError(f"an input is at most {_MAX_INPUT} bytes, got {len(data)}")
    return data


def blind(data: bytes, mode: Mode, *, blind_scalar: bytes | None = None) -> tuple[bytes, bytes]:
    """``Blind`` (§3.3.1): (blind, blinded element). The blind is random unless given (vectors)."""
    element = hash_to_group(_checked_input(data), mode)
    if element == group.IDENTITY:  # the one-way map reaches it with negligible probability
        raise InvalidInputError("the input maps to the identity element")
    scalar = blind_scalar if blind_scalar is not None else group.random_scalar()
    return scalar, group.mul(scalar, element)


def blind_many(
    inputs: Sequence[bytes], mode: Mode, *, blind_scalars: Sequence[bytes] | None = None
) -> tuple[list[bytes], list[bytes]]:
    """:func:`blind` of every input: (blinds, blinded elements), fresh blinds unless given."""
    for data in inputs:
        _checked_input(data)
    dst = b"HashToGroup-" + context_string(mode)
    elements = group.elements_from_uniform(_expand_64_many(inputs, dst))
    if group.IDENTITY in elements:  # the one-way map reaches it with negligible probability
        raise InvalidInputError("an input maps to the identity element")
    if blind_scalars is None:
        blind_scalars = group.random_scalars(len(elements))
    return list(blind_scalars), group.mul_many(blind_scalars, elements)


def finalize_many(
    inputs: Sequence[bytes], blind_scalars: Sequence[bytes], evaluated: Sequence[bytes]
) -> list[bytes]:
    """:func:`finalize` of every input, its blind and its evaluated element: the outputs."""
    if not len(inputs) == len(blind_scalars) == len(evaluated):
        raise ValueError("finalize_many takes as many inputs, blinds and elements")
    unblinded = group.mul_many(group.invert_many(blind_scalars), evaluated)
    sha512 = hashlib.sha512
    tail = _i2osp(group.ELEMENT_BYTES, 2)
    return [
        sha512(_framed(_checked_input(data)) + tail + element + b"Finalize").digest()
        for data, element in zip(inputs, unblinded, strict=True)
    ]


def blind_evaluate(secret: bytes, blinded: bytes) -> bytes:
    """``BlindEvaluate`` without a proof (§3.3.1): the evaluator's side of modes 0 and 1."""
    return group.mul(secret, blinded)


def finalize(data: bytes, blind_scalar: bytes, evaluated: bytes) -> bytes:
    """``Finalize`` (§3.3.1, same in modes 0 and 1 once the proof holds): the 64-byte output."""
    return finalize_unblinded(data, group.mul(group.invert(blind_scalar), evaluated))


def finalize_unblinded(data: bytes, unblinded: bytes) -> bytes:
    """The output hash over an already unblinded element ``N``."""
    transcript = _framed(_checked_input(data)) + _framed(unblinded) + b"Finalize"
    return hashlib.sha512(transcript).digest()


def evaluate(secret: bytes, data: bytes, mode: Mode) -> bytes:
    """``Evaluate`` (§3.3.1): the PRF output computed by a holder of the secret key."""
    element = hash_to_group(_checked_input(data), mode)
    if element == group.IDENTITY:
        raise InvalidInputError("the input maps to the identity element")
    return finalize_unblinded(data, group.mul(secret, element))


def compute_composites(
    public_key: bytes, blinded: Sequence[bytes], evaluated: Sequence[bytes], mode: Mode
) -> tuple[bytes, bytes]:
    """``ComputeComposites`` (§2.2.1): the weighted sums M and Z the batched proof is over.

    Every weight ``d_i`` is computed first, then the products ``d_i·C_i`` and ``d_i·D_i``
    and their sums, chunk-wide (the sums do not depend on the order of their terms).
    """
    public_encoded = _framed(public_key)
    seed = hashlib.sha512(public_encoded + _framed(b"Seed-" + context_string(mode))).digest()
    if len(blinded) != len(evaluated):
        raise ValueError(f"{len(blinded)} blinded element(s) for {len(evaluated)} evaluated")
    element_prefix = _i2osp(group.ELEMENT_BYTES, 2)
    transcripts = [
        _i2osp(index, 2) + element_prefix + c_i + element_prefix + d_i + b"Composite"
        for index, (c_i, d_i) in enumerate(zip(blinded, evaluated, strict=True))
    ]
    # Each transcript is seedPrefix || I2OSP(i, 2) || framed(C_i) || framed(D_i) || "Composite".
    uniforms = _expand_64_many(
        transcripts, b"HashToScalar-" + context_string(mode), prefix=_framed(seed)
    )
    weights = group.reduce_wide_many(uniforms)
    composite_m = group.sum_elements(group.mul_many(weights, blinded))
    composite_z = group.sum_elements(group.mul_many(weights, evaluated))
    return composite_m, composite_z


def verify_proof(
    public_key: bytes,
    blinded: Sequence[bytes],
    evaluated: Sequence[bytes],
    proof: bytes,
    mode: Mode = Mode.VOPRF,
) -> bool:
    """``VerifyProof`` (§2.2.2) with A = G, B = pkS: does ``evaluated[i] = k·blinded[i]`` hold?

    Every encoding is first checked as the RFC's deserialisation would (canonical non-identity
    elements, canonical scalars); libsodium alone would accept ``s`` plus the group order, or
    an element with its top bit set.
    """
    well_formed = (
        group.is_element(public_key)
        and len(proof) == 2 * group.SCALAR_BYTES
        and group.is_scalar(proof[: group.SCALAR_BYTES])
        and group.is_scalar(proof[group.SCALAR_BYTES :])
        and all(group.is_element(element) for element in (*blinded, *evaluated))
    )
    return well_formed and verify_parsed_proof(public_key, blinded, evaluated, proof, mode)


def verify_parsed_proof(
    public_key: bytes,
    blinded: Sequence[bytes],
    evaluated: Sequence[bytes],
    proof: bytes,
    mode: Mode = Mode.VOPRF,
) -> bool:
    """:func:`verify_proof` for encodings the caller has already checked one by one.

    The connector checks an evaluator's answer before it gets here (lengths, top bits, the
    identity, the proof's scalars), and the elements it sent are its own blinded elements or
    a previous hop's checked answer. Whether each element decodes is left to libsodium's
    multiplications in :func:`compute_composites`, which decode every element (sent and
    evaluated) and fail on one that does not: the check is then ``False``, as for a false
    proof (:func:`connectors.oprf.answers.check_answer` tells the two apart afterwards).
    Decoding each element beforehand as well would cost about 5 µs per element.
    """
    count = len(blinded)
    if count != len(evaluated) or not 0 < count <= _MAX_BATCH:
        return False
    challenge, response = proof[: group.SCALAR_BYTES], proof[group.SCALAR_BYTES :]
    try:
        composite_m, composite_z = compute_composites(public_key, blinded, evaluated, mode)
        t2 = group.add(group.mul_base(response), group.mul(challenge, public_key))
        t3 = group.add(group.mul(response, composite_m), group.mul(challenge, composite_z))
    except group.GroupError:
        return False  # a zero scalar or an identity product: no honest proof leads here
    transcript = b"".join(_framed(part) for part in (public_key, composite_m, composite_z, t2, t3))
    return hash_to_scalar(transcript + b"Challenge", mode) == challenge
