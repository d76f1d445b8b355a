"""Creating and reading alerts.

Alerts are created in the transaction of the request that caused them (a submission, a new
watch entry, a retraction), so a crash never leaves an indicator without its alert; delivery
by polling is at-least-once and ordered by alert id, acknowledged by cursor.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from gateway.alerts.models import Alert, AlertCursor, AlertType
from gateway.dialect import copy_rows, insert_ignoring_conflicts
from gateway.matching.evidence import (
    Evidence,
    disclose,
    hash_in,
    is_corroborated,
    lookup_evidence,
)
from gateway.matching.schemas import obligations_out
from gateway.partners.models import Partner
from gateway.policy.decision import Action, Decision, DecisionRequest
from gateway.services import Services
from gateway.watchlist.models import Disclosure, WatchEntry

#: From this many rows on, disclosures are streamed with COPY (PostgreSQL).
BULK_ROWS = 64


def _cursor_for_update(session: Session, services: Services, partner_id: str) -> AlertCursor:
    """The partner's cursor row, locked until commit (see ``gateway.alerts.models``)."""
    cursor = session.execute(
        select(AlertCursor).where(AlertCursor.partner_id == partner_id).with_for_update()
    ).scalar_one_or_none()
    if cursor is None:
        session.execute(
            insert_ignoring_conflicts(session, AlertCursor, ["partner_id"]).values(
                partner_id=partner_id, last_seq=0, acknowledged=0, updated_at=services.clock.now()
            )
        )
        cursor = session.execute(
            select(AlertCursor).where(AlertCursor.partner_id == partner_id).with_for_update()
        ).scalar_one()
    return cursor


def _next_seq(cursor: AlertCursor) -> int:
    cursor.last_seq += 1
    return cursor.last_seq


def _last_alert(session: Session, watch_id: int) -> Alert | None:
    return session.execute(
        select(Alert)
        .where(Alert.watch_id == watch_id, Alert.type != AlertType.RETRACTION.value)
        .order_by(Alert.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def evaluate_watchers(
    session: Session, services: Services, token_hashes: set[bytes], request_id: str
) -> int:
    """Alert every watcher whose watched token is now corroborated; returns alerts created."""
    if not token_hashes:
        return 0
    entries = list(
        session.execute(
            select(WatchEntry).where(hash_in(session, WatchEntry.token_hash, sorted(token_hashes)))
        ).scalars()
    )
    if not entries:
        return 0
    by_partner: dict[str, list[WatchEntry]] = defaultdict(list)
    for entry in entries:
        by_partner[entry.partner_id].append(entry)
    decide = _alert_decisions(session, services)
    created = 0
    for partner_id, own_entries in sorted(by_partner.items()):  # fixed lock order
        evidence = lookup_evidence(
            session,
            sorted({entry.token_hash for entry in own_entries}),
            exclude_partner=partner_id,
            now=services.clock.now(),
        )
        for entry in own_entries:
            found = evidence.get(entry.token_hash)
            decision = decide(entry) if found is not None else None
            if found is not None and decision is not None and is_corroborated(found, decision):
                created += _alert(
                    session, services, entry, found=found, decision=decision, request_id=request_id
                )
    session.flush()
    return created


def _alert_decisions(
    session: Session, services: Services
) -> Callable[[WatchEntry], Decision | None]:
    """Decides whether a watcher may be alerted, once per (partner, purpose, basis, kind),
    with the watcher's registered sector; None when the policy refuses."""
    decisions: dict[tuple[str, str, str, str], Decision] = {}

    def decide(entry: WatchEntry) -> Decision | None:
        key = (entry.partner_id, entry.purpose, entry.legal_basis, entry.kind)
        if key not in decisions:
            registered = session.get(Partner, entry.partner_id)
            sector: dict[str, object] = (
                {"partner_sector": registered.sector} if registered is not None else {}
            )
            decisions[key] = services.policy.decide(
                DecisionRequest(
                    action=Action.ALERTS_READ,
                    partner_id=entry.partner_id,
                    purpose=entry.purpose,
                    legal_basis=entry.legal_basis,
                    kinds=(entry.kind,),
                    context=sector,
                )
            )
        return decisions[key] if decisions[key].allow else None

    return decide


def _alert(
    session: Session,
    services: Services,
    entry: WatchEntry,
    *,
    found: Evidence,
    decision: Decision,
    request_id: str,
) -> int:
    """Queue one alert (or an update, when what may be disclosed changed) and record the
    disclosure; 0 when the watcher was already told exactly this."""
    disclosed = disclose(0, found, decision).model_dump(
        mode="json", exclude_none=True, exclude={"row"}
    )
    previous = _last_alert(session, entry.id)
    payload = json.dumps(disclosed, sort_keys=True)
    if previous is not None and previous.disclosed == payload:
        return 0
    now = services.clock.now()
    cursor = _cursor_for_update(session, services, entry.partner_id)
    session.add(
        Alert(
            partner_id=entry.partner_id,
            seq=_next_seq(cursor),
            type=(AlertType.ALERT if previous is None else AlertType.UPDATE).value,
            watch_id=entry.id,
            token_hash=entry.token_hash,
            kind=entry.kind,
            purpose=entry.purpose,
            disclosed=payload,
            obligations=json.dumps([o.model_dump() for o in obligations_out([decision])]),
            created_at=now,
        )
    )
    session.add(
        Disclosure(
            partner_id=entry.partner_id,
            token_hash=entry.token_hash,
            request_id=request_id,
            row=None,
            watch_id=entry.id,
            created_at=now,
        )
    )
    return 1


def notify_retraction(
    session: Session, services: Services, token_hashes: set[bytes], *, reason: str
) -> int:
    """Send a retraction notice to every partner that was told about these tokens."""
    if not token_hashes:
        return 0
    now = services.clock.now()
    told = session.execute(
        select(Disclosure)
        .where(hash_in(session, Disclosure.token_hash, sorted(token_hashes)))
        .order_by(Disclosure.partner_id, Disclosure.id)  # fixed lock order
    ).scalars()
    seen: set[tuple[str, bytes, int | None, str, int | None]] = set()
    created = 0
    for record in told:
        key = (record.partner_id, record.token_hash, record.watch_id, record.request_id, record.row)
        if key in seen:
            continue
        seen.add(key)
        watch = session.get(WatchEntry, record.watch_id) if record.watch_id else None
        cursor = _cursor_for_update(session, services, record.partner_id)
        session.add(
            Alert(
                partner_id=record.partner_id,
                seq=_next_seq(cursor),
                type=AlertType.RETRACTION.value,
                watch_id=record.watch_id,
                about_request_id=None if record.watch_id else record.request_id,
                about_row=None if record.watch_id else record.row,
                token_hash=record.token_hash,
                kind=watch.kind if watch else "",
                purpose=watch.purpose if watch else "",
                disclosed=json.dumps({"reason": reason}, sort_keys=True),
                created_at=now,
            )
        )
        created += 1
    session.flush()
    return created


def record_match_disclosures(
    session: Session,
    partner_id: str,
    request_id: str,
    rows: list[tuple[int, bytes]],
    now: datetime,
) -> None:
    """Remember which match rows told a partner about a token, for retraction notices.

    A batch can disclose thousands of rows: they are written as plain rows (COPY on
    PostgreSQL), not as ORM objects, which cost more than the whole lookup.
    """
    if not rows:
        return
    if len(rows) >= BULK_ROWS and session.get_bind().dialect.name == "postgresql":
        copy_rows(
            session,
            "disclosures",
            ("partner_id", "token_hash", "request_id", "row", "created_at"),
            ("text", "bytea", "text", "int4", "timestamptz"),
            ((partner_id, token_hash, request_id, row, now) for row, token_hash in rows),
        )
        return
    session.execute(
        insert(Disclosure),
        [
            {
                "partner_id": partner_id,
                "token_hash": token_hash,
                "request_id": request_id,
                "row": row,
                "watch_id": None,
                "created_at": now,
            }
            for row, token_hash in rows
        ],
    )


def read_alerts(
    session: Session, partner_id: str, *, after: int | None, limit: int
) -> tuple[list[Alert], int]:
    """Alerts after the cursor (default: the acknowledged one), oldest first."""
    if after is None:
        cursor = session.get(AlertCursor, partner_id)
        after = cursor.acknowledged if cursor else 0
    alerts = list(
        session.execute(
            select(Alert)
            .where(Alert.partner_id == partner_id, Alert.seq > after)
            .order_by(Alert.seq)
            .limit(limit)
        ).scalars()
    )
    return alerts, after


def acknowledge(session: Session, services: Services, partner_id: str, cursor: int) -> int:
    """Move the acknowledged cursor forward (never backward, never past the last alert)."""
    record = _cursor_for_update(session, services, partner_id)
    record.acknowledged = max(record.acknowledged, min(cursor, record.last_seq))
    record.updated_at = services.clock.now()
    session.flush()
    return record.acknowledged
