"""Group commit for audit entries that are a transaction of their own (leader/follower).

Most audit entries are written in the transaction of the action they record
(:meth:`AuditTrail.record`): the action and its entry commit together or not at all, and
PostgreSQL already shares one WAL flush among transactions that commit at the same moment.
Some entries are the whole transaction, though: a refusal, a read of the audit trail, a
sign-in denied. For those, :meth:`GroupCommitter.append` gathers the entries of concurrent
callers and commits them together, one transaction and one commit for the batch:

* The caller validates and encodes its event first (:meth:`AuditTrail.prepare`), so an
  invalid event fails alone and never joins a batch.
* The first caller to find no commit in progress becomes the *leader*: it takes every entry
  queued so far (at most ``max_batch``), writes them in one transaction (each entry draws
  its number and is inserted exactly as :meth:`AuditTrail.record` does) and commits.
  Callers arriving meanwhile queue and wait; when the leader is done, one of them leads the
  next batch. Batches therefore form by themselves while a commit is in flight (no timer
  is needed; ``max_wait_seconds`` can hold a leader back a little longer to gather more).
* Every caller returns only after the commit of the batch that holds its entry returned,
  with its own receipt (leaf index and leaf hash): an acknowledged entry is durable. If
  the batch fails, every caller in it gets the error and no receipt.
* A crash (``kill -9``) before the commit loses only unacknowledged entries; the numbers
  their batch had drawn are filled with ``audit:sequence:void`` entries by the sequencer,
  exactly like the number of any request that died after drawing one, so the log has no gap.

One committer per process (a worker); several processes commit their batches concurrently
like any other writers.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail.events import AuditEvent
from gateway.audit_trail.service import AuditReceipt, AuditTrail, PreparedEntry
from gateway.db import transaction


@dataclass(slots=True, eq=False)
class _Slot:
    prepared: PreparedEntry
    taken: bool = False
    done: bool = False
    receipt: AuditReceipt | None = None
    error: BaseException | None = field(default=None)


class GroupCommitter:
    """Appends entries in batches, one transaction per batch; callers wait for its commit."""

    def __init__(
        self,
        trail: AuditTrail,
        session_factory: sessionmaker[Session],
        *,
        max_batch: int = 256,
        max_wait_seconds: float = 0.0,
        max_leaders: int = 1,
    ) -> None:
        if max_batch < 1 or max_leaders < 1:
            raise ValueError("max_batch and max_leaders must be at least 1")
        self.trail = trail
        self.session_factory = session_factory
        self.max_batch = max_batch
        self.max_wait_seconds = max_wait_seconds
        self.max_leaders = max_leaders
        self._queue: list[_Slot] = []
        self._leaders = 0
        self._cond = threading.Condition()
        self.batches = 0  # committed batches, for tests and benchmarks
        self.entries = 0

    def append(self, event: AuditEvent) -> AuditReceipt:
        """Append ``event`` as a transaction of its own; returns once it is committed."""
        slot = _Slot(self.trail.prepare(event))
        with self._cond:
            self._queue.append(slot)
            if len(self._queue) >= self.max_batch:
                self._cond.notify_all()  # a leader gathering for max_wait has enough
            while not slot.done:
                if slot.taken or self._leaders >= self.max_leaders:
                    self._cond.wait()
                    continue
                self._lead()
        if slot.error is not None:
            raise slot.error
        if slot.receipt is None:  # pragma: no cover - a done slot has one or the other
            raise RuntimeError("audit batch finished without a receipt")
        return slot.receipt

    def _lead(self) -> None:
        """Commit one batch (called, and returning, with the condition's lock held)."""
        self._leaders += 1
        try:
            if self.max_wait_seconds > 0 and len(self._queue) < self.max_batch:
                self._cond.wait_for(
                    lambda: len(self._queue) >= self.max_batch, timeout=self.max_wait_seconds
                )
            batch = self._queue[: self.max_batch]
            del self._queue[: self.max_batch]
            for slot in batch:
                slot.taken = True
            self._cond.release()
            try:
                outcome: Sequence[AuditReceipt] | BaseException = self._commit(batch)
            except BaseException as exc:  # noqa: BLE001 - every waiter in the batch must learn it
                outcome = exc
            finally:
                self._cond.acquire()
            for number, slot in enumerate(batch):
                if isinstance(outcome, BaseException):
                    slot.error = outcome
                else:
                    slot.receipt = outcome[number]
                slot.done = True
            if not isinstance(outcome, BaseException):
                self.batches += 1
                self.entries += len(batch)
        finally:
            self._leaders -= 1
            self._cond.notify_all()

    def _commit(self, batch: Sequence[_Slot]) -> list[AuditReceipt]:
        with transaction(self.session_factory) as session:
            return self.trail.write_batch(session, [slot.prepared for slot in batch])
