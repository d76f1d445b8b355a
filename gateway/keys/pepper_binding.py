"""Which K_gw key each salt epoch's tokens are peppered with, recorded and enforced.

The pepper ring maps epochs to keys by rule ("from epoch N"). A rule edited the wrong way —
a key added "from epoch 3" while epoch 3 already holds tokens, a line deleted too early, the
wrong file mounted on one replica — would make the gateway pepper with another key and
silently match nothing. So the first time the gateway sees an epoch it records the key id
the ring gave it, and every start (and every maintenance tick) compares the ring with those
records: a disagreement stops the process with the epochs named, rather than serving
wrong answers. Retired epochs are exempt: their data is purged and their key may be pruned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.alerts.models import WebhookEndpoint
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.errors import ConfigurationError
from gateway.pepper import PepperRing


@dataclass(frozen=True, slots=True)
class KeyUse:
    """What still needs one ring key: the reason it may not be pruned yet, if any."""

    from_epoch: int
    key_id: str
    epochs: tuple[int, ...]
    live_epochs: tuple[int, ...]
    webhooks: int
    details_until: datetime | None

    def blocker(self, now: datetime, *, newest: bool) -> str | None:
        if newest:
            return "the newest key peppers every new epoch"
        if self.live_epochs:
            return "epochs not retired: " + ", ".join(map(str, self.live_epochs))
        if self.webhooks:
            return f"{self.webhooks} webhook secret(s) derive from it (re-register them)"
        if self.details_until is not None and self.details_until > now:
            return f"audit details of its epochs are kept until {self.details_until:%Y-%m-%d}"
        return None


def bind_epoch(epoch: KeyEpoch, ring: PepperRing) -> None:
    """Record the key a new epoch uses, after re-reading the ring file.

    Re-reading makes the record follow the file an operator just edited even when this
    worker started before the edit.
    """
    ring.reload()
    epoch.pepper_key_id = ring.key_id_for(epoch.epoch)


def mismatches(session: Session, ring: PepperRing) -> dict[int, str]:
    """Epochs whose recorded key the ring no longer gives them (retired epochs excepted)."""
    rows = session.execute(
        select(KeyEpoch.epoch, KeyEpoch.pepper_key_id).where(
            KeyEpoch.state != EpochState.RETIRED.value, KeyEpoch.pepper_key_id.is_not(None)
        )
    ).all()
    return {
        epoch: f"epoch {epoch} was peppered with key {recorded}, the ring "
        f"{ring.path or ''} now gives {ring.key_id_for(epoch)}"
        for epoch, recorded in rows
        if recorded != ring.key_id_for(epoch)
    }


def refresh(session: Session, ring: PepperRing) -> dict[int, str]:
    """Periodic: pick up an edited ring file and quarantine epochs it contradicts."""
    ring.reload()
    problems = mismatches(session, ring)
    ring.quarantine(problems)
    return problems


def check_bindings(session: Session, ring: PepperRing) -> None:
    """Bind unbound epochs and webhooks to the ring; refuse a ring that contradicts the records.

    Rows from before rotation existed (NULL) were peppered with the single key of that time,
    which is the ring's first entry.
    """
    problems = mismatches(session, ring)
    if problems:
        raise ConfigurationError(
            "pepper key ring disagrees with the database: "
            + "; ".join(problems.values())
            + ". Restore the key lines (never change a line in place; add keys only for "
            "epochs not yet issued)."
        )
    unbound = session.execute(
        select(KeyEpoch.epoch).where(KeyEpoch.pepper_key_id.is_(None))
    ).scalars()
    for epoch in unbound:
        session.execute(
            update(KeyEpoch)
            .where(KeyEpoch.epoch == epoch, KeyEpoch.pepper_key_id.is_(None))
            .values(pepper_key_id=ring.key_id_for(epoch))
        )
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.secret_key_id.is_(None))
        .values(secret_key_id=ring.entries[0].key_id)
    )


def key_uses(session: Session, ring: PepperRing, *, detail_retention_days: int) -> list[KeyUse]:
    """For each ring key: the epochs and webhooks that use it, for `ppsgate pepper status`."""
    epochs = session.execute(
        select(KeyEpoch.epoch, KeyEpoch.state, KeyEpoch.pepper_key_id, KeyEpoch.retired_at)
    ).all()
    webhooks = session.execute(select(WebhookEndpoint.secret_key_id)).scalars().all()
    uses: list[KeyUse] = []
    for entry in ring.entries:
        mine = [row for row in epochs if (row.pepper_key_id or "") == entry.key_id]
        retired = [_aware(row.retired_at) for row in mine if row.retired_at is not None]
        until = max(retired) + timedelta(days=detail_retention_days) if retired else None
        uses.append(
            KeyUse(
                from_epoch=entry.from_epoch,
                key_id=entry.key_id,
                epochs=tuple(sorted(row.epoch for row in mine)),
                live_epochs=tuple(
                    sorted(row.epoch for row in mine if row.state != EpochState.RETIRED.value)
                ),
                webhooks=sum(1 for key_id in webhooks if key_id == entry.key_id),
                details_until=until,
            )
        )
    return uses


def _aware(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes; every stored moment is UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def newest_epoch(session: Session) -> int:
    """The highest epoch the gateway knows (0 if none): a new key must start after it."""
    return max(session.execute(select(KeyEpoch.epoch)).scalars(), default=0)
