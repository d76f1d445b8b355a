"""Spec v2 tokens: RFC 9497 VOPRF evaluated by a chain of pinned evaluators, every hop verified.

For each chunk of one identifier type the connector blinds every input once
(``M = r·H("ppsgate:v2:<kind>:<canonical>")``) and sends the blinded elements to the first
evaluator, which answers ``Z_1 = k_1·M`` with one batched DLEQ proof. The connector checks
that proof against the evaluator's *pinned* key for the epoch and type and only then sends
``Z_1`` on to the second evaluator (``Z_2 = k_2·Z_1``, its proof checked over ``Z_1``), and so
on down the chain. The last answer unblinds to ``k_1·k_2·…·H(input)``, finalised into the RFC
9497 output under the product of the keys, from which the token is derived
(:func:`~connectors.oprf.suite.token_from_output`). No key that produces tokens is ever held
here: the blinds are fresh per chunk and dropped.

Chunks are pipelined: up to ``max_in_flight`` chunks are in progress at once, each in its
own thread walking the chain, so the evaluators and the connector's checks overlap. With
``crypto_workers`` > 0 the blinding, checking and unblinding run in that many worker
processes (:mod:`connectors.oprf.workers`) so they use every core.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

from connectors.canonical import Kind
from connectors.errors import KeyMaterialError
from connectors.oprf.answers import MalformedEvaluation, ProofRejected
from connectors.oprf.chunks import ChunkCrypto, LocalCrypto
from connectors.oprf.client import EvaluatedBatch, EvaluatorClient
from connectors.oprf.errors import EvaluatorConfigError, EvaluatorError, EvaluatorProofError
from connectors.oprf.pins import check_distinct
from connectors.oprf.suite import ELEMENT_BYTES, MAX_BATCH, SPEC_VERSION, oprf_input
from connectors.oprf.workers import CryptoWorkerError, WorkerCrypto

DEFAULT_BATCH_SIZE = 2000
DEFAULT_IN_FLIGHT = 4


def default_crypto_workers() -> int:
    """One worker per core when there are several cores; none on a single core."""
    cores = os.cpu_count() or 1
    return cores if cores > 1 else 0


class VoprfTokeniserV2:
    """A :class:`~connectors.hashing.Tokeniser` for spec v2 (call :meth:`close` when done).

    ``crypto_workers`` processes are started on the first call that spans more than one
    chunk (a single chunk is cheaper in-process than a process start) and stopped by
    :meth:`close`. In-flight chunks are spread over them round-robin; each chunk waits for
    two evaluators in turn, so on machines with many cores raise ``max_in_flight`` to at
    least twice the number of workers to keep them busy while answers travel (the default,
    4, suits two cores).
    """

    spec_version = SPEC_VERSION

    def __init__(
        self,
        evaluators: Sequence[EvaluatorClient],
        *,
        epoch: int,
        kinds: Iterable[Kind] | None = None,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_in_flight: int = DEFAULT_IN_FLIGHT,
        crypto_workers: int = 0,
    ) -> None:
        check_distinct(evaluator.pin for evaluator in evaluators)
        if not 1 <= batch_size <= MAX_BATCH:
            raise EvaluatorConfigError(f"must be between 1 and {MAX_BATCH}", field="batch_size")
        if max_in_flight < 1:
            raise EvaluatorConfigError("must be at least 1", field="max_in_flight")
        if crypto_workers < 0:
            raise EvaluatorConfigError("must be 0 or more", field="crypto_workers")
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
        # Checked encodings (the pins document refuses anything else), in chain order.
        self._keys = {kind: [ev.pin.key(epoch, kind) for ev in self._evaluators] for kind in wanted}
        self._batch_size = batch_size
        self._in_flight = max_in_flight
        self._worker_count = crypto_workers
        self._local = LocalCrypto()
        self._workers: list[WorkerCrypto] = []
        self._workers_lock = threading.Lock()
        self._chunks = ThreadPoolExecutor(max_workers=max_in_flight, thread_name_prefix="voprf")

    @property
    def epoch(self) -> int:
        return self._epoch

    @property
    def kinds(self) -> frozenset[Kind]:
        return frozenset(self._keys)

    @property
    def evaluator_names(self) -> tuple[str, ...]:
        return tuple(ev.name for ev in self._evaluators)

    @property
    def crypto_worker_pids(self) -> tuple[int, ...]:
        """Process ids of the crypto workers started so far (none until a multi-chunk call)."""
        with self._workers_lock:
            return tuple(worker.pid for worker in self._workers)

    def close(self) -> None:
        self._chunks.shutdown(wait=True, cancel_futures=True)
        with self._workers_lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.close()

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
        chunks = [
            (kind, positions[start : start + self._batch_size])
            for kind, positions in by_kind.items()
            for start in range(0, len(positions), self._batch_size)
        ]
        cryptos = self._cryptos(len(chunks))
        running: list[Future[list[str]]] = [
            self._chunks.submit(
                self._tokenise_chunk, cryptos[index % len(cryptos)], kind, positions, items
            )
            for index, (kind, positions) in enumerate(chunks)
        ]
        out: list[str] = [""] * len(items)
        try:
            for (_kind, positions), chunk in zip(chunks, running, strict=True):
                for position, token in zip(positions, chunk.result(), strict=True):
                    out[position] = token
        finally:
            for chunk in running:  # an earlier chunk failed: start nothing more
                chunk.cancel()
        return out

    def _cryptos(self, chunk_count: int) -> Sequence[ChunkCrypto]:
        if self._worker_count == 0 or chunk_count < 2:
            return [self._local]
        with self._workers_lock:
            while len(self._workers) < self._worker_count:
                self._workers.append(WorkerCrypto())
            return list(self._workers)

    def _tokenise_chunk(
        self,
        crypto: ChunkCrypto,
        kind: Kind,
        positions: list[int],
        items: Sequence[tuple[Kind, str]],
    ) -> list[str]:
        handle, sent = crypto.blind([oprf_input(kind, items[p][1]) for p in positions])
        try:
            for evaluator, public_key in zip(self._evaluators, self._keys[kind], strict=True):
                answer = evaluator.evaluate_packed(self._epoch, kind, sent)
                self._check(crypto, evaluator.name, kind, sent, answer, public_key=public_key)
                sent = answer.evaluated  # verified: the next evaluator's input
            return crypto.finalize(handle, sent)
        except BaseException:
            with contextlib.suppress(CryptoWorkerError):  # a dead worker took the blinds along
                crypto.discard(handle)
            raise

    def _check(
        self,
        crypto: ChunkCrypto,
        evaluator: str,
        kind: Kind,
        sent: bytes,
        answer: EvaluatedBatch,
        *,
        public_key: bytes,
    ) -> None:
        try:
            crypto.verify(sent, answer.evaluated, answer.proof, public_key)
        except MalformedEvaluation as malformed:
            raise EvaluatorError(evaluator, f"malformed answer: {malformed}") from None
        except ProofRejected:
            raise EvaluatorProofError(
                evaluator,
                f"the batch proof for {len(sent) // ELEMENT_BYTES} {kind} element(s) does not "
                f"verify against its pinned key for epoch {self._epoch}; the answer was not "
                "computed with the published key and is refused",
            ) from None
