"""Spec v2 computations for tests: evaluator answers and what a holder of every key computes.

``offline_token`` is what only someone holding *every* evaluator's key can compute without
asking anyone: the RFC 9497 ``Evaluate`` under the product of the keys. The tests compare it
with what the connector gets online through the chain, and show that anything less than all
keys gives other values.
"""

from __future__ import annotations

from collections.abc import Sequence

from voprf import ristretto

from connectors.canonical import Kind
from connectors.oprf import group, protocol
from connectors.oprf.suite import (
    ELEMENT_BYTES,
    key_info,
    oprf_input,
    split_binding_batch,
    token_from_output,
)

MODE = protocol.Mode.VOPRF


def answer(evaluator: ristretto.Evaluator, packed: bytes) -> tuple[bytes, bytes]:
    """(evaluated elements, batched proof) as the evaluator service computes them."""
    elements = [
        ristretto.BlindedInput.deserialize(packed[offset : offset + ELEMENT_BYTES])
        for offset in range(0, len(packed), ELEMENT_BYTES)
    ]
    return split_binding_batch(evaluator.evaluate_batch(elements).serialize())


def secret_key(seed: bytes, epoch: int, kind: Kind) -> bytes:
    """An evaluator's secret scalar, checked against the binding's public key for the seed."""
    secret, public = protocol.derive_key_pair(seed, key_info(epoch, kind), MODE)
    binding = ristretto.Evaluator.from_seed(seed, key_info(epoch, kind))
    assert binding.public_key.serialize() == public
    return secret


def product(secrets: Sequence[bytes]) -> bytes:
    """The product of scalars modulo the group order."""
    result, *rest = secrets
    for secret in rest:
        result = group.scalar_mul(result, secret)
    return result


def offline_token(secrets: Sequence[bytes], kind: Kind, canonical: str) -> str:
    """The token computed from the evaluators' secret keys alone (all of them needed)."""
    output = protocol.evaluate(product(secrets), oprf_input(kind, canonical), MODE)
    return token_from_output(output)


def seeded_token(seeds: Sequence[bytes], epoch: int, kind: Kind, canonical: str) -> str:
    """:func:`offline_token` from the evaluators' seeds."""
    return offline_token([secret_key(seed, epoch, kind) for seed in seeds], kind, canonical)
