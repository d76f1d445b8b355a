"""Spec v2 tokens: RFC 9497 VOPRF evaluated by every pinned evaluator, proofs checked.

For each chunk of one identifier type the connector blinds every input once
(``M = r·H("ppsgate:v2:<kind>:<canonical>")``) and sends the same blinded elements to all
evaluators at once; each answers ``Z_i = k_i·M`` with one batched DLEQ proof. The
connector verifies every proof against that evaluator's *pinned* key for the epoch and
type, unblinds and finalises each answer into the RFC 9497 output ``y_i = F(k_i, input)``
and derives the token from all of them (:func:`~connectors.oprf.suite.combine_outputs`).
No key that produces tokens is ever held here: the blinds are fresh per chunk and dropped.

Chunks are pipelined: while the evaluators work on chunk *n*, the connector blinds chunk
*n+1* and verifies chunk *n-1*, so the connector's CPU and the evaluators' overlap.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from voprf import ristretto

from connectors.canonical import Kind
from connectors.errors import KeyMaterialError
from connectors.oprf.binding import MalformedEvaluation, ProofRejected, verify_batch
from connectors.oprf.client import EvaluatedBatch, EvaluatorClient
from connectors.oprf.errors import EvaluatorConfigError, EvaluatorError, EvaluatorProofError
from connectors.oprf.pins import check_distinct
from connectors.oprf.suite import (
    MAX_BATCH,
    SPEC_VERSION,
    combine_outputs,
    oprf_input,
)

DEFAULT_BATCH_SIZE = 2000
DEFAULT_IN_FLIGHT = 3


@dataclass
class _Chunk:
    kind: Kind
    positions: list[int]
    clients: list[ristretto.Client]
    answers: list[Future[EvaluatedBatch]]


class VoprfTokeniserV2:
    """A :class:`~connectors.hashing.Tokeniser` for spec v2 (call :meth:`close` when done)."""

    spec_version = SPEC_VERSION

    def __init__(
        self,
        evaluators: Sequence[EvaluatorClient],
        *,
        epoch: int,
        kinds: Iterable[Kind] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
    ) -> None:
        check_distinct(evaluator.pin for evaluator in evaluators)
        if not 1 <= batch_size <= MAX_BATCH:
            raise EvaluatorConfigError(f"must be between 1 and {MAX_BATCH}", field="batch_size")
        if max_in_flight < 1:
            raise EvaluatorConfigError("must be at least 1", field="max_in_flight")
        pinned = frozenset.intersection(*(ev.pin.kinds(epoch) for ev in evaluators))
        wanted = pinned if kinds is None else frozenset(kinds)
        missing = sorted(kind.value for kind in wanted - pinned)
        if missing or not wanted:
            raise EvaluatorConfigError(
                f"every evaluator needs a pinned key for epoch {epoch} and type(s) "
                f"{', '.join(missing) or 'any'}",
                field="public_keys",
            )
        self._evaluators = list(evaluators)
        self._epoch = epoch
        self._keys = {kind: [ev.pin.key(epoch, kind) for ev in self._evaluators] for kind in wanted}
        self._batch_size = batch_size
        self._in_flight = max_in_flight
        self._pool = ThreadPoolExecutor(
            max_workers=len(self._evaluators) * max_in_flight, thread_name_prefix="voprf"
        )

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(self._keys)

    @property
    def evaluator_names(self) -> tuple[str, ...]:
        return tuple(ev.name for ev in self._evaluators)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> VoprfTokeniserV2:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def token(self, kind: Kind, canonical: str) -> str:
        return self.tokens([(kind, canonical)])[0]

    def tokens(self, items: Sequence[tuple[Kind, str]]) -> list[str]:
        by_kind: dict[Kind, list[int]] = {}
        for position, (kind, _canonical) in enumerate(items):
            if kind not in self._keys:
                raise KeyMaterialError(f"no pinned {kind} evaluator keys for epoch {self._epoch}")
            by_kind.setdefault(kind, []).append(position)
        out: list[str] = [""] * len(items)
        pending: deque[_Chunk] = deque()
        try:
            for kind, positions in by_kind.items():
                for start in range(0, len(positions), self._batch_size):
                    chunk_positions = positions[start : start + self._batch_size]
                    pending.append(self._send(kind, chunk_positions, items))
                    if len(pending) >= self._in_flight:
                        self._finish(pending.popleft(), out)
            while pending:
                self._finish(pending.popleft(), out)
        finally:
            for chunk in pending:  # an earlier chunk failed: drop what is still in flight
                for answer in chunk.answers:
                    answer.cancel()
        return out

    def _send(self, kind: Kind, positions: list[int], items: Sequence[tuple[Kind, str]]) -> _Chunk:
        clients: list[ristretto.Client] = []
        blinded: list[bytes] = []
        for position in positions:
            client, element = ristretto.Client.blind(oprf_input(kind, items[position][1]))
            clients.append(client)
            blinded.append(element.serialize())
        answers = [
            self._pool.submit(evaluator.evaluate, self._epoch, kind, blinded)
            for evaluator in self._evaluators
        ]
        return _Chunk(kind, positions, clients, answers)

    def _finish(self, chunk: _Chunk, out: list[str]) -> None:
        per_evaluator: list[list[bytes]] = []
        for evaluator, answer, key in zip(
            self._evaluators, chunk.answers, self._keys[chunk.kind], strict=True
        ):
            batch = answer.result()
            try:
                outputs = verify_batch(chunk.clients, batch.evaluated, batch.proof, key)
            except MalformedEvaluation:
                raise EvaluatorError(
                    evaluator.name, "answered with bytes that are not group elements"
                ) from None
            except ProofRejected:
                raise EvaluatorProofError(
                    evaluator.name,
                    f"the batch proof for {len(chunk.clients)} {chunk.kind} element(s) does "
                    f"not verify against its pinned key for epoch {self._epoch}; the answer "
                    "was not computed with the published key and is refused",
                ) from None
            per_evaluator.append(outputs)
        for offset, position in enumerate(chunk.positions):
            out[position] = combine_outputs([outputs[offset] for outputs in per_evaluator])
