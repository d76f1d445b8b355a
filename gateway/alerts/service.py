"""Creating and reading alerts.

Alerts are created in the transaction of the request that caused them (a submission, a new
watch entry, a retraction), so a crash never leaves an indicator without its alert; delivery
by polling is at-least-once and ordered by alert id, acknowledged by cursor.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session

from gateway.alerts.models import Alert, AlertCursor, AlertType, Disclosure, WatchEntry
from gateway.dialect import copy_rows, execute_compiled, hash_in, insert_ignoring_conflicts
from gateway.services import Services

#: From this many rows on, disclosures are streamed with COPY (PostgreSQL).
BULK_ROWS = 64
_INSERT_DISCLOSURES = insert(cast(Table, Disclosure.__table__))
# ``inline``: the new row's id is not fetched back (RETURNING), nobody reads it.
_INSERT_ONE_DISCLOSURE = _INSERT_DISCLOSURES.inline().values(
    {name: bindparam(name) for name in ("partner_id", "token_hash", "request_id", "row")}
    | {"watch_id": None, "created_at": bindparam("created_at")}
)


def cursor_for_update(session: Session, services: Services, partner_id: str) -> AlertCursor:
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


def next_seq(cursor: AlertCursor) -> int:
    cursor.last_seq += 1
    return cursor.last_seq


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
        cursor = cursor_for_update(session, services, record.partner_id)
        session.add(
            Alert(
                partner_id=record.partner_id,
                seq=next_seq(cursor),
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
    # Core rows on the session's connection: the ORM's bulk insert machinery cost more CPU
    # than the statement for the one row of a single match.
    values = [
        {
            "partner_id": partner_id,
            "token_hash": token_hash,
            "request_id": request_id,
            "row": row,
            "watch_id": None,
            "created_at": now,
        }
        for row, token_hash in rows
    ]
    connection = session.connection()
    if len(values) == 1:  # a single match: one plain execute, not the executemany machinery
        execute_compiled(connection, _INSERT_ONE_DISCLOSURE, values[0])
    else:
        connection.execute(_INSERT_DISCLOSURES, values)


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
    record = cursor_for_update(session, services, partner_id)
    record.acknowledged = max(record.acknowledged, min(cursor, record.last_seq))
    record.updated_at = services.clock.now()
    session.flush()
    return record.acknowledged
