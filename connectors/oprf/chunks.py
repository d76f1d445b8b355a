"""Blinding, checking and finalising one chunk of v2 inputs, its blinds kept under a handle.

A chunk goes through three kinds of step: :meth:`~ChunkCrypto.blind` (fresh blinds, the
blinded elements to send to the first evaluator), one :meth:`~ChunkCrypto.verify` per evaluator
in the chain (its batched proof over exactly the elements it was sent, against its pinned key)
and :meth:`~ChunkCrypto.finalize` (unblind the last answer and derive the tokens). Checking is
stateless and may run anywhere; the blinds and inputs stay with the :class:`ChunkState` that
made them, under a handle, and are forgotten at :meth:`~ChunkCrypto.finalize` or
:meth:`~ChunkCrypto.discard`, so they never travel beside the answers. The work runs in the
connector's own process (:class:`LocalCrypto`) or in worker processes
(:mod:`connectors.oprf.workers`): libsodium releases the GIL while it multiplies, but the
Python around each call does not, and the curve work is most of a connector's CPU.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol

from connectors.oprf import protocol
from connectors.oprf.answers import check_answer
from connectors.oprf.suite import split_elements, token_from_output

_MODE = protocol.Mode.VOPRF


class ChunkCrypto(Protocol):
    """Where a chunk's blinds live between sending it and unblinding the chain's answer."""

    def blind(self, inputs: Sequence[bytes]) -> tuple[int, bytes]:
        """Blind every input with a fresh blind: (handle, concatenated blinded elements)."""
        ...

    def verify(self, sent: bytes, evaluated: bytes, proof: bytes, public_key: bytes) -> None:
        """Refuse (``MalformedEvaluation``/``ProofRejected``) an answer that does not hold."""
        ...

    def finalize(self, handle: int, evaluated: bytes) -> list[str]:
        """Unblind the chain's last (already verified) answer: the tokens, in input order."""
        ...

    def discard(self, handle: int) -> None:
        """Drop a chunk's blinds without finalising (a request or a proof failed)."""
        ...

    def close(self) -> None:
        """Release what the implementation holds."""
        ...


class ChunkState:
    """The chunks blinded in this process and not yet finalised.

    Safe to share between threads: its only shared state is a dict and a counter, each
    changed by one operation that is atomic under the GIL (``next``, item assignment, ``pop``).
    """

    def __init__(self) -> None:
        self._chunks: dict[int, tuple[list[bytes], list[bytes]]] = {}
        self._handles = itertools.count()

    def __len__(self) -> int:
        return len(self._chunks)

    def blind(self, inputs: Sequence[bytes]) -> tuple[int, bytes]:
        blinds, blinded = protocol.blind_many(inputs, _MODE)
        handle = next(self._handles)
        self._chunks[handle] = (list(inputs), blinds)
        return handle, b"".join(blinded)

    def verify(self, sent: bytes, evaluated: bytes, proof: bytes, public_key: bytes) -> None:
        check_answer(sent, evaluated, proof, public_key)

    def finalize(self, handle: int, evaluated: bytes) -> list[str]:
        inputs, blinds = self._chunks.pop(handle)  # the blinds are used once, whatever happens
        answered = split_elements(evaluated)
        if len(answered) != len(inputs):
            raise ValueError(f"{len(answered)} element(s) to unblind for {len(inputs)} input(s)")
        outputs = protocol.finalize_many(inputs, blinds, answered)
        return [token_from_output(output) for output in outputs]

    def discard(self, handle: int) -> None:
        self._chunks.pop(handle, None)


class LocalCrypto(ChunkState):
    """:class:`ChunkCrypto` in the calling process."""

    def close(self) -> None:
        """Nothing to release: the blinds go with the object."""
