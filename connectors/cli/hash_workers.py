"""Worker processes for ``hash --workers N``: canonicalising and tokenising on every core.

Per row, detection and canonicalisation (libphonenumber rules, the IBAN registry, IDNA, the
Public Suffix List) cost several times the HMAC itself and hold the GIL, so only processes
spread them. The parent keeps reading the input and writing the outputs; workers get chunks
of parsed rows and return each chunk finished (:func:`~connectors.cli.hash_chunks.process_chunk`,
the same function the single-process path runs). Results are taken in submission order with
a bounded number of chunks in flight: output order is input order and memory stays flat.

Workers are forked from a ``multiprocessing`` fork server, never from the connector itself
(it runs a progress-bar thread, and forking a threaded process can deadlock). The server
preloads this module, so the canonicalisation libraries are imported once and every worker
starts from that copy instead of importing them again. The type keys travel to each worker
once, over the pipe between the parent and its own child processes; nothing is written to
disk.
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import time
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from connectors.canonical import Kind
from connectors.cli.hash_chunks import ChunkResult, carried_formatter, process_chunk
from connectors.cli.hash_io import RowTuple
from connectors.errors import ConnectorError
from connectors.hashing import HmacTokeniserV1, RowCanonicaliser, TypeKeys

#: Chunks queued per worker beyond the one it is working on (bounds memory).
QUEUED_PER_WORKER = 2


class HashWorkerError(ConnectorError):
    """A worker process died (killed, out of memory); the output is incomplete and removed."""

    title = "Hash worker failed"


class _WorkerState:
    """What a worker builds once from the initializer's arguments."""

    canonicalise: RowCanonicaliser
    tokeniser: HmacTokeniserV1
    format_carried: Any


_state = _WorkerState()


def _init_worker(
    keys: Mapping[str, bytes], epoch: int, region: str, carried_names: tuple[str, ...] | None
) -> None:
    type_keys = TypeKeys({Kind(name): key for name, key in keys.items()}, epoch=epoch)
    _state.tokeniser = HmacTokeniserV1(type_keys)
    _state.canonicalise = RowCanonicaliser(type_keys, region=region)
    _state.format_carried = carried_formatter(carried_names)


def _work(records: Sequence[RowTuple]) -> tuple[ChunkResult, int, float, int]:
    """The chunk's result, this worker's pid, CPU seconds so far (since the fork), peak RSS."""
    result = process_chunk(
        records,
        canonicalise=_state.canonicalise,
        tokeniser=_state.tokeniser,
        format_carried=_state.format_carried,
    )
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return result, os.getpid(), time.process_time(), peak_kib


class HashPool:
    """``workers`` processes turning chunks of rows into :class:`ChunkResult`, in order."""

    def __init__(
        self,
        keys: TypeKeys,
        *,
        workers: int,
        region: str,
        carried_names: tuple[str, ...] | None,
    ) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        self._workers = workers
        self._cpu_by_worker: dict[int, float] = {}
        self._peak_kib = 0
        self._executor = ProcessPoolExecutor(
            max_workers=workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(
                {kind.value: keys[kind] for kind in keys},
                keys.epoch,
                region,
                carried_names,
            ),
        )

    def map(self, chunks: Iterable[Sequence[RowTuple]]) -> Iterator[ChunkResult]:
        """Results of ``chunks`` in input order, with at most a few chunks per worker queued."""
        in_flight: deque[Future[tuple[ChunkResult, int, float, int]]] = deque()
        limit = self._workers * (1 + QUEUED_PER_WORKER)
        try:
            for chunk in chunks:
                in_flight.append(self._executor.submit(_work, chunk))
                if len(in_flight) >= limit:
                    yield self._take(in_flight.popleft())
            while in_flight:
                yield self._take(in_flight.popleft())
        except BrokenProcessPool:
            raise HashWorkerError("a worker process stopped unexpectedly") from None
        finally:
            for future in in_flight:
                future.cancel()

    def _take(self, future: Future[tuple[ChunkResult, int, float, int]]) -> ChunkResult:
        result, pid, cpu_seconds, peak_kib = future.result()
        self._cpu_by_worker[pid] = cpu_seconds
        self._peak_kib = max(self._peak_kib, peak_kib)
        return result

    @property
    def worker_cpu_seconds(self) -> float:
        """CPU time the workers used up to their last chunk, start-up included.

        Workers are the fork server's children, not ours, so ``RUSAGE_CHILDREN`` misses them;
        benchmarks add this to the parent's CPU time to show what parallelism costs.
        """
        return sum(self._cpu_by_worker.values())

    @property
    def worker_peak_rss_mb(self) -> float:
        """Largest peak resident set size of any worker (shared pages of the fork included)."""
        return self._peak_kib / 1024

    def close(self) -> None:
        """Stop the workers (waiting for them, so their CPU time is accounted to us)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
