"""What retiring an epoch removes.

Indicators, matches and watch lists are accepted under the active epoch and, during the
overlap window after a rotation, under the retiring one (:mod:`gateway.epochs.validity`
checks that on every request). When the window ends (the retention
purge notices) or the custodian ends it early, the old epoch's indicators and watch-list
entries are deleted and its envelopes dropped: tokens of a retired epoch are useless to
everyone, and keeping them would only keep a target. Counts, never contents, are audited.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import Actor, AuditTag
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.epochs.validity import aware
from gateway.indicators.models import Indicator
from gateway.keys.models import KeyEnvelope
from gateway.services import Services


def purge_epoch(session: Session, epoch: int) -> dict[str, int]:
    """Delete an epoch's indicators, watch-list entries and envelopes; return the counts."""
    indicators = session.execute(delete(Indicator).where(Indicator.epoch == epoch))
    watched = session.execute(delete(WatchEntry).where(WatchEntry.epoch == epoch))
    envelopes = session.execute(delete(KeyEnvelope).where(KeyEnvelope.epoch == epoch))
    return {
        "indicators": int(getattr(indicators, "rowcount", 0) or 0),
        "watch_entries": int(getattr(watched, "rowcount", 0) or 0),
        "envelopes": int(getattr(envelopes, "rowcount", 0) or 0),
    }


def retire(
    session: Session,
    services: Services,
    row: KeyEpoch,
    *,
    actor: Actor,
    why: str,
) -> tuple[dict[str, int], int]:
    """Retire one epoch now: purge its data, mark it, audit the counts; (counts, leaf)."""
    previous = row.state
    counts = purge_epoch(session, row.epoch) if previous != EpochState.PENDING else {}
    row.state = EpochState.RETIRED.value
    row.retired_at = services.clock.now()
    session.flush()
    receipt = services.audit.record(
        session,
        actor.event(
            AuditTag.KEY_EPOCH_RETIRE,
            decision="allow",
            reason_codes=(why,),
            policy_digest=services.policy.digest,
            counts={"epoch": row.epoch, **counts},
            detail={"previous_state": previous},
        ),
    )
    return counts, receipt.leaf_index


def retire_expired(
    session: Session, services: Services, *, request_id: str, actor: str
) -> dict[str, int]:
    """Retire every epoch whose overlap window has ended (called by the retention purge)."""
    now = services.clock.now()
    totals = {"epochs_retired": 0, "epoch_indicators": 0, "epoch_watch_entries": 0}
    rows = session.scalars(
        select(KeyEpoch).where(KeyEpoch.state == EpochState.RETIRING.value).order_by(KeyEpoch.epoch)
    ).all()
    for row in rows:
        if row.overlap_ends_at is None or aware(row.overlap_ends_at) > now:
            continue
        counts, _leaf = retire(
            session,
            services,
            row,
            actor=Actor(request_id, user=actor),
            why="overlap-window-ended",
        )
        totals["epochs_retired"] += 1
        totals["epoch_indicators"] += counts.get("indicators", 0)
        totals["epoch_watch_entries"] += counts.get("watch_entries", 0)
    return totals
