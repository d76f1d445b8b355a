"""Checking one evaluator's answer before anything is built on it.

An answer is the evaluated elements and one batched DLEQ proof for the elements the connector
sent. It is refused in two distinct ways, so the error can say which: bytes that are not
canonical group elements or scalars (:class:`MalformedEvaluation`), and a proof that does not
hold for the evaluator's pinned key (:class:`ProofRejected`). In the chain the elements sent to
evaluator B are A's answer, so each hop is checked here before its output goes on.
"""

from __future__ import annotations

from connectors.oprf import group, protocol
from connectors.oprf.suite import ELEMENT_BYTES, PROOF_BYTES, SCALAR_BYTES, split_elements


class ProofRejected(ValueError):  # noqa: N818 - it is the outcome, not a failure of the code
    """The evaluation does not verify against the given public key."""


class MalformedEvaluation(ValueError):  # noqa: N818 - same naming as ProofRejected
    """The answer's bytes are not group elements or a proof, or not one per element sent."""


def check_answer(sent: bytes, evaluated: bytes, proof: bytes, public_key: bytes) -> None:
    """Refuse the answer unless ``evaluated[i] = k·sent[i]`` for the key behind ``public_key``.

    ``sent`` is the connector's own: its blinded elements, or the previous hop's answer,
    checked here when it arrived. ``public_key`` comes from the pins, checked when loaded.
    """
    if len(evaluated) % ELEMENT_BYTES:
        raise MalformedEvaluation(
            f"the evaluated elements are {len(evaluated)} bytes, not whole "
            f"{ELEMENT_BYTES}-byte elements"
        )
    if len(evaluated) != len(sent):
        raise MalformedEvaluation(
            f"{len(evaluated) // ELEMENT_BYTES} element(s) answered for "
            f"{len(sent) // ELEMENT_BYTES} sent"
        )
    answered = split_elements(evaluated)
    if not all(group.is_encoding(element) for element in answered):
        raise MalformedEvaluation("the answer holds bytes that are not group elements")
    if len(proof) != PROOF_BYTES or not (
        group.is_scalar(proof[:SCALAR_BYTES]) and group.is_scalar(proof[SCALAR_BYTES:])
    ):
        raise MalformedEvaluation("the proof is not two canonical scalars")
    # Every answered element is decoded by libsodium in the proof check (it is multiplied by
    # its weight), and an undecodable one fails the check; only then is each one decoded on
    # its own, to tell a malformed answer from a false proof.
    if protocol.verify_parsed_proof(public_key, split_elements(sent), answered, proof):
        return
    if not all(group.is_element(element) for element in answered):
        raise MalformedEvaluation("the answer holds bytes that are not group elements")
    raise ProofRejected("the batch proof does not verify")
