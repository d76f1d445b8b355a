"""Blinding and finalising one chunk of v2 inputs, kept under a handle between the two steps.

The ``voprf`` binding's ``Client`` holds a chunk's blinds and cannot be pickled or rebuilt
from bytes, so the process that blinded a chunk must be the one that verifies and unblinds
its answers. :class:`ChunkCrypto` is that state machine: :meth:`~ChunkCrypto.blind` returns a
handle and the packed blinded elements to send, :meth:`~ChunkCrypto.finalize` checks every
evaluator's batch proof against its pinned key, unblinds and derives the tokens, and forgets
the blinds either way. It runs in the connector's own process (:class:`LocalCrypto`) or in a
worker process (:mod:`connectors.oprf.workers`), because the binding holds the GIL and the
curve work is most of a connector's CPU.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Protocol

from voprf import ristretto

from connectors.oprf.binding import MalformedEvaluation, ProofRejected, verify_batch
from connectors.oprf.suite import combine_outputs


class AnswerRefused(Exception):  # noqa: N818 - an outcome the tokeniser names per evaluator
    """Evaluator number ``index`` answered with a proof that fails, or with non-elements."""

    def __init__(self, index: int, *, malformed: bool) -> None:
        super().__init__(f"answer {index} {'is malformed' if malformed else 'fails its proof'}")
        self.index = index
        self.malformed = malformed


class ChunkCrypto(Protocol):
    """Where a chunk's blinds live between sending it and checking the answers."""

    def blind(self, inputs: Sequence[bytes]) -> tuple[int, bytes]:
        """Blind every input with a fresh blind: (handle, concatenated blinded elements)."""
        ...

    def finalize(
        self, handle: int, answers: Sequence[tuple[bytes, bytes]], public_keys: Sequence[bytes]
    ) -> list[str]:
        """Verify answer *i* (evaluated elements, proof) against key *i*; tokens in order."""
        ...

    def discard(self, handle: int) -> None:
        """Drop a chunk's blinds without finalising (its requests failed)."""
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
        self._clients: dict[int, list[ristretto.Client]] = {}
        self._handles = itertools.count()

    def __len__(self) -> int:
        return len(self._clients)

    def blind(self, inputs: Sequence[bytes]) -> tuple[int, bytes]:
        clients: list[ristretto.Client] = []
        blinded: list[bytes] = []
        for oprf_input in inputs:
            client, element = ristretto.Client.blind(oprf_input)
            clients.append(client)
            blinded.append(element.serialize())
        handle = next(self._handles)
        self._clients[handle] = clients
        return handle, b"".join(blinded)

    def finalize(
        self, handle: int, answers: Sequence[tuple[bytes, bytes]], public_keys: Sequence[bytes]
    ) -> list[str]:
        clients = self._clients.pop(handle)  # the blinds are used once, whatever happens
        per_evaluator: list[list[bytes]] = []
        for index, ((evaluated, proof), raw_key) in enumerate(
            zip(answers, public_keys, strict=True)
        ):
            key = ristretto.PublicKey.deserialize(raw_key)
            try:
                per_evaluator.append(verify_batch(clients, evaluated, proof, key))
            except MalformedEvaluation:
                raise AnswerRefused(index, malformed=True) from None
            except ProofRejected:
                raise AnswerRefused(index, malformed=False) from None
        return [combine_outputs(outputs) for outputs in zip(*per_evaluator, strict=True)]

    def discard(self, handle: int) -> None:
        self._clients.pop(handle, None)


class LocalCrypto(ChunkState):
    """:class:`ChunkCrypto` in the calling process (one core at most: the binding holds the GIL)."""

    def close(self) -> None:
        """Nothing to release: the blinds go with the object."""
