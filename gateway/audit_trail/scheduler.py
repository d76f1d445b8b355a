"""Background sequencing and checkpoint signing for one process.

One daemon thread per process. It wakes every poll interval, or at once after a commit that
brings the log to a multiple of N (the trail calls back), folds the entries committed since
into the tree in one batch (the sequencer; one process at a time per database) and signs a
checkpoint when at least N entries were added since the last one, a multiple of N was
passed, or the last one is older than T seconds. The signer trusts what the sequencer
checked in the same transaction, so only entries folded by earlier passes are read twice
(and those are hashed, not decoded, the second time). Several processes (and several
gateways on one database) may run one each: a round integrates and signs in one transaction
under the sequencer's advisory lock, so one process at a time sequences and signs, and the
next one finds the checkpoint already there; after a failover the lock is simply taken on
the new primary. A failure is logged and retried; an integrity failure is logged as critical
and never "repaired" by signing.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from gateway.audit_trail import checkpoints, sequencer
from gateway.audit_trail.errors import AuditIntegrityError
from gateway.audit_trail.service import AuditTrail
from gateway.audit_trail.store import as_utc
from gateway.db import transaction
from gateway.errors import GatewayError

logger = logging.getLogger(__name__)


class CheckpointScheduler:
    """Sequences entries and signs checkpoints in the background for one trail."""

    def __init__(
        self,
        trail: AuditTrail,
        session_factory: sessionmaker[Session],
        *,
        poll_seconds: float = 0.5,
    ) -> None:
        self.trail = trail
        self.session_factory = session_factory
        self.poll_seconds = poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        trail.on_checkpoint_due(self._wake.set)

    def due(self, session: Session, size: int) -> bool:
        """Whether the tree has grown enough, or waited long enough, for a new checkpoint."""
        last = checkpoints.newest(session)
        last_size = last[0] if last else 0
        if size <= last_size:
            return False
        every = self.trail.checkpoint_max_entries
        if last is None or size // every > last_size // every or size - last_size >= every:
            return True  # the first entries, or N more, or a multiple of N was passed
        age = self.trail.clock.now() - as_utc(last[1])
        return age >= timedelta(seconds=self.trail.checkpoint_max_seconds)

    def run_once(self) -> checkpoints.PublishedCheckpoint | None:
        """Integrate committed entries, then sign if due; returns the new checkpoint.

        One transaction: the sequencer's advisory lock (PostgreSQL) covers the signing too.
        """
        with transaction(self.session_factory) as session:
            folded = sequencer.fold(session, self.trail.clock, self.trail.reservations)
            if not self.due(session, folded.size):
                return None
            # The entries folded just now are checked once, there; the signer re-reads only
            # those folded by earlier passes.
            return checkpoints.sign_pending(
                session, self.trail.signer, self.trail.clock.now(), folded
            )

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except AuditIntegrityError as exc:
                logger.critical("audit log refused: %s", exc.reason)
            except GatewayError as exc:
                logger.warning("audit sequencing failed: %s", exc.diagnostics())
            except Exception:  # the thread must outlive a database outage or a bug report
                logger.exception("audit sequencing failed unexpectedly")
            self._wake.wait(self.poll_seconds)
            self._wake.clear()

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="audit-sequencer", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
