"""Retention: deleting what has outlived its purpose, and auditing that it was deleted.

Runs from ``ppsgate purge`` and periodically inside the server. Counts, never contents, go
to the audit log; the purge is one transaction, so a crash purges nothing rather than half.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from gateway.abuse.housekeeping import forget_ended_windows
from gateway.audit_trail.events import Actor, AuditTag
from gateway.audit_trail.models import AuditEntry
from gateway.audit_trail.store import as_utc
from gateway.auth.models import ConsoleSigninThrottle
from gateway.idempotency import IdempotentResponse
from gateway.indicators.models import Indicator
from gateway.keys.validity import retire_expired
from gateway.services import Services

IDEMPOTENCY_WINDOW = timedelta(days=2)
# Advisory lock of the periodic purge (a key no other area uses).
PURGE_LOCK = 0x7075_7267_6500_0001


@dataclass(slots=True)
class PurgeCounts:
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, name: str, value: int) -> None:
        self.counts[name] = self.counts.get(name, 0) + value


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def periodic_purge_due(session: Session, now: datetime, interval_seconds: float) -> bool:
    """Whether this process runs the periodic purge: once per interval across all processes.

    Several gateway processes share one database; the first to come takes an advisory lock
    for its transaction (PostgreSQL) and purges, the others find it held, or find the purge
    it recorded less than half an interval ago, and skip their turn (half: the process that
    purged last must not skip its own next turn because its clock ticked a little early).
    """
    if session.get_bind().dialect.name == "postgresql" and not session.scalar(
        select(func.pg_try_advisory_xact_lock(PURGE_LOCK))
    ):
        return False
    last = session.scalar(
        select(func.max(AuditEntry.time)).where(AuditEntry.tag == AuditTag.RETENTION_PURGE_RUN)
    )
    return last is None or as_utc(last) <= now - timedelta(seconds=interval_seconds / 2)


def purge(session: Session, services: Services, *, request_id: str, actor: str) -> PurgeCounts:
    """Delete expired indicators, stale idempotency records, audit details past retention,
    retired epochs' data and the abuse bookkeeping of ended windows; audit the counts."""
    now = services.clock.now()
    counts = PurgeCounts()
    counts.add(
        "indicators",
        _rowcount(session.execute(delete(Indicator).where(Indicator.expires_at <= now))),
    )
    counts.add(
        "idempotent_responses",
        _rowcount(
            session.execute(
                delete(IdempotentResponse).where(
                    IdempotentResponse.created_at <= now - IDEMPOTENCY_WINDOW
                )
            )
        ),
    )
    counts.add("audit_details", services.audit.purge_details(session, before=now))
    counts.add("console_signin_throttle", _forget_signin_failures(session, services, now))
    for name, value in forget_ended_windows(session, now.timestamp()).items():
        counts.add(name, value)
    # Epochs whose overlap window ended: their indicators and watch entries go, each epoch's
    # retirement audited on its own (key:epoch:retire), the totals counted here too.
    retired = retire_expired(session, services, request_id=request_id, actor=actor)
    for name, value in retired.items():
        counts.add(name, value)
    services.audit.record(
        session,
        Actor(request_id, user=actor).event(
            AuditTag.RETENTION_PURGE_RUN,
            decision="allow",
            policy_digest=services.policy.digest,
            counts=dict(counts.counts),
        ),
    )
    return counts


def _forget_signin_failures(session: Session, services: Services, now: datetime) -> int:
    """Failed sign-in counters of names neither locked nor tried within a lockout period."""
    quiet = now - timedelta(seconds=services.settings.console_lockout_seconds)
    stale = delete(ConsoleSigninThrottle).where(
        ConsoleSigninThrottle.updated_at <= quiet,
        or_(
            ConsoleSigninThrottle.locked_until.is_(None),
            ConsoleSigninThrottle.locked_until <= now,
        ),
    )
    return _rowcount(session.execute(stale))
