"""Which epochs tokens may be used under, and the refusal of a request under any other.

Indicators, matches and watch lists are accepted under the active epoch and, during the
overlap window after a rotation, under the retiring one (``gateway.keys.validity`` retires
epochs and purges their tokens).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.dialect import execute_compiled
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.registry_watch import RegistryWatch

FETCH_HINT = "fetch the current keys with `ppsgate-connector keys fetch` and re-hash"


@dataclass(frozen=True, slots=True)
class EpochValidity:
    """The epochs usable right now, and a reason for every other epoch number."""

    active: int | None
    valid: frozenset[int]
    states: dict[int, tuple[str, datetime | None]]

    def problem(self, epoch: int) -> str | None:
        """Why tokens of ``epoch`` are refused now, or ``None`` when they are accepted."""
        if epoch in self.valid:
            return None
        use = (
            f"use the active epoch {self.active}"
            if self.active is not None
            else "no epoch is active yet (the key custodian must create and activate one)"
        )
        known = self.states.get(epoch)
        if known is None:
            return f"epoch {epoch} is unknown to the gateway; {use}"
        state, ends = known
        if state == EpochState.PENDING:
            return f"epoch {epoch} is not active yet (pending); {use}"
        if state == EpochState.RETIRING and ends is not None:
            return (
                f"epoch {epoch}'s overlap window ended at {ends.isoformat()}; {use} ({FETCH_HINT})"
            )
        return f"epoch {epoch} is retired; {use} ({FETCH_HINT})"


_EPOCHS = select(KeyEpoch.epoch, KeyEpoch.state, KeyEpoch.overlap_ends_at)

EpochRow = tuple[int, str, datetime | None]


@dataclass(frozen=True, slots=True)
class _StoredEpochs:
    rows: tuple[EpochRow, ...]


def _stored_epochs(session: Session, registry: RegistryWatch) -> tuple[EpochRow, ...]:
    """The epochs table (a handful of rows): remembered since its last change, or read."""
    known = registry.recall("epochs")
    if isinstance(known, _StoredEpochs):
        return known.rows
    stamp = registry.stamp()
    found = execute_compiled(session.connection(), _EPOCHS, {}).all()
    rows = tuple((int(epoch), str(state), ends) for epoch, state, ends in map(tuple, found))
    registry.remember("epochs", stamp, _StoredEpochs(rows))
    return rows


def epoch_validity(session: Session, now: datetime, registry: RegistryWatch) -> EpochValidity:
    """The epochs usable at ``now`` (validity is worked out afresh from the stored rows)."""
    rows = _stored_epochs(session, registry)
    valid: set[int] = set()
    active: int | None = None
    states: dict[int, tuple[str, datetime | None]] = {}
    for epoch, state, ends in rows:
        states[epoch] = (state, ends)
        if state == EpochState.ACTIVE:
            valid.add(epoch)
            active = epoch
        elif state == EpochState.RETIRING and ends is not None and aware(ends) > now:
            valid.add(epoch)
    return EpochValidity(active=active, valid=frozenset(valid), states=states)


def aware(moment: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns; they are stored as UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
