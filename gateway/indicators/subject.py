"""The reports held about one identifier, for the data subject's access request (Art. 15).

The audit trail answers who learnt what about a token; this answers what is held about it
now: each live report's category, role, evidence level, reporting sector, when it was
observed and the day it expires (and is purged). A partner's reader sees only its own
reports; the partnership's DPO, acting for the data subject, sees every reporter (the
source of the data, Art. 15(1)(g)).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.indicators.models import Indicator, IndicatorStatus
from gateway.partners.models import Partner


@dataclass(frozen=True, slots=True)
class HeldReport:
    reporter: str
    sector: str
    kind: str
    category: str
    role: str
    evidence: str | None
    status: str
    observed_at: datetime
    expires_at: datetime
    retention_reason: str | None


def held_reports(
    session: Session, token_hash: bytes, *, scope: str | None, now: datetime
) -> list[HeldReport]:
    """Live (not retracted, not expired) reports on the peppered token, oldest first."""
    query = (
        select(Indicator, Partner.sector)
        .join(Partner, Partner.id == Indicator.partner_id)
        .where(
            Indicator.token_hash == token_hash,
            Indicator.status != IndicatorStatus.RETRACTED.value,
            Indicator.expires_at > now,
        )
        .order_by(Indicator.observed_at, Indicator.id)
    )
    if scope is not None:
        query = query.where(Indicator.partner_id == scope)
    return [
        HeldReport(
            reporter=row.partner_id,
            sector=sector,
            kind=row.kind,
            category=row.category,
            role=row.role,
            evidence=row.evidence,
            status=row.status,
            observed_at=row.observed_at,
            expires_at=row.expires_at,
            retention_reason=row.retention_reason,
        )
        for row, sector in session.execute(query)
    ]
