"""Spec v2 computations for tests: evaluator answers and what a holder of every key computes.

``offline_token`` is what only someone holding *every* evaluator's key can compute without
asking anyone: the RFC 9497 ``Evaluate`` under the product of the keys. The tests compare it
with what the connector gets online through the chain, and show that anything less than all
keys gives other values.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from typing import Any

from voprf import ristretto

from connectors.canonical import Kind
from connectors.hashing import HmacTokeniserV1, TypeKeys
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


def held_byte_strings(*documents: Any) -> list[bytes]:
    """Every byte string (hex or base64url, 16 bytes or more) found in JSON-like documents:
    what a partner holds in its key store, pins document and access tokens."""
    found: set[bytes] = set()

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, str) and len(value) >= 32:
            for decode in (
                bytes.fromhex,
                lambda text: base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)),
            ):
                try:
                    raw = decode(value)
                except ValueError:
                    continue
                if len(raw) >= 16:
                    found.add(raw)

    for document in documents:
        walk(document)
    return sorted(found)


def offline_guesses(
    held: Sequence[bytes],
    evaluator_secrets: Sequence[bytes],
    epoch: int,
    kind: Kind,
    canonical: str,
) -> set[str]:
    """Every token computable offline from ``held`` alone and with *one* evaluator's key.

    Each held byte string is tried as an evaluator seed, as a raw scalar and as a v1 master
    salt; alone, paired with each other, and paired with each real evaluator key on its own.
    """
    candidates = [(raw[:32] + bytes(32))[:32] for raw in held]
    scalars = [secret_key(candidate, epoch, kind) for candidate in candidates] + [
        scalar
        for scalar in (group.reduce_wide(candidate + bytes(32)) for candidate in candidates)
        if scalar != bytes(32)
    ]
    guesses = {offline_token([one], kind, canonical) for one in evaluator_secrets}
    for mine in scalars:
        guesses.add(offline_token([mine], kind, canonical))
        for other in [*scalars, *evaluator_secrets]:
            guesses.add(offline_token([mine, other], kind, canonical))
    for candidate in candidates:
        keys = TypeKeys.from_master_salt(candidate, epoch=epoch)
        guesses.add(HmacTokeniserV1(keys).token(kind, canonical))
    return guesses
