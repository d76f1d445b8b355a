"""The few calls into the ``voprf`` binding whose failure modes need care.

``Client.finalize_batch`` does not raise ``ValueError`` when a batch proof fails: the
binding unwraps the Rust error and pyo3 turns the panic into ``PanicException``, a
``BaseException`` that ordinary ``except Exception`` handlers miss (voprf 0.2.0). Every
proof check goes through :func:`verify_batch`, which turns both forms into
:class:`ProofRejected`, so a forged answer is refused with a clear error, never a crash.
"""

from __future__ import annotations

from collections.abc import Sequence

from voprf import ristretto

from connectors.oprf.suite import binding_batch_bytes

_PANIC = "PanicException"


class ProofRejected(ValueError):  # noqa: N818 - it is the outcome, not a failure of the code
    """The evaluation does not verify against the given public key."""


class MalformedEvaluation(ValueError):  # noqa: N818 - same naming as ProofRejected
    """The answer's bytes are not group elements or a proof."""


def verify_batch(
    clients: Sequence[ristretto.Client],
    evaluated: bytes,
    proof: bytes,
    public_key: ristretto.PublicKey,
) -> list[bytes]:
    """Verify one batched DLEQ proof, unblind and finalise: the RFC 9497 outputs, in order."""
    try:
        output = ristretto.VerifiableBatchOutput.deserialize(binding_batch_bytes(evaluated, proof))
    except ValueError:
        raise MalformedEvaluation("the answer holds bytes that are not group elements") from None
    try:
        return ristretto.Client.finalize_batch(clients, output, public_key)
    except ValueError:
        raise ProofRejected("the batch proof does not verify") from None
    except BaseException as exc:  # pyo3 panics are BaseException; see the module docstring
        if type(exc).__name__ != _PANIC:
            raise
        raise ProofRejected("the batch proof does not verify") from None
