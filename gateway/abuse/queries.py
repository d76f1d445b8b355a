"""Read-only views for the console and the CLI: open enumeration alerts and quota usage.

They hold partner and client ids, purposes and counts — never tokens or identifiers — so
the console overview can show them to the partnership's DPO as they are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.abuse.models import AlertStatus, EnumerationAlert, QuotaScope, QuotaUsage


def window_time(seconds: int) -> datetime:
    """A window start (Unix seconds) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass(frozen=True, slots=True)
class AlertView:
    id: int
    partner_id: str
    client_id: str | None
    purpose: str
    kind: str
    window_start: datetime
    window_seconds: int
    items: int
    distinct_tokens: int
    hits: int
    raised_at: datetime
    status: str
    audit_seq: int


@dataclass(frozen=True, slots=True)
class UsageView:
    scope: str
    subject: str
    partner_id: str
    purpose: str
    window_start: datetime
    window_seconds: int
    used: int
    distinct_tokens: int
    hits: int
    alerted: bool


def list_alerts(
    session: Session,
    *,
    status: AlertStatus | None = AlertStatus.OPEN,
    partner_id: str | None = None,
    limit: int = 100,
) -> list[AlertView]:
    """Enumeration alerts, newest first (open ones unless ``status`` is None)."""
    query = select(EnumerationAlert).order_by(EnumerationAlert.id.desc()).limit(limit)
    if status is not None:
        query = query.where(EnumerationAlert.status == status.value)
    if partner_id is not None:
        query = query.where(EnumerationAlert.partner_id == partner_id)
    return [
        AlertView(
            id=row.id,
            partner_id=row.partner_id,
            client_id=row.client_id,
            purpose=row.purpose,
            kind=row.kind,
            window_start=window_time(row.window_start),
            window_seconds=row.window_seconds,
            items=row.items,
            distinct_tokens=row.distinct_tokens,
            hits=row.hits,
            raised_at=row.raised_at,
            status=row.status,
            audit_seq=row.audit_seq,
        )
        for row in session.scalars(query)
    ]


def list_usage(
    session: Session,
    *,
    partner_id: str | None = None,
    scope: QuotaScope | None = None,
    limit: int = 200,
) -> list[UsageView]:
    """Usage per window, newest window first (kept for 35 days)."""
    query = (
        select(QuotaUsage)
        .order_by(QuotaUsage.window_start.desc(), QuotaUsage.partner_id, QuotaUsage.subject)
        .limit(limit)
    )
    if partner_id is not None:
        query = query.where(QuotaUsage.partner_id == partner_id)
    if scope is not None:
        query = query.where(QuotaUsage.scope == scope.value)
    return [
        UsageView(
            scope=row.scope,
            subject=row.subject,
            partner_id=row.partner_id,
            purpose=row.purpose,
            window_start=window_time(row.window_start),
            window_seconds=row.window_seconds,
            used=row.used,
            distinct_tokens=row.distinct_tokens,
            hits=row.hits,
            alerted=row.alerted,
        )
        for row in session.scalars(query)
    ]
