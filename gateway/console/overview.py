"""Statistics of the overview page, computed in the database over the chosen period.

Only the partners' data exchange is counted (``events.EXCHANGE_TAGS``): console pages,
CLI and administration are oversight activity, counted apart in :mod:`review`. Activity
comes from the audit entries' search columns (time, partner, purpose, decision),
grouped by the database; the match rate needs the per-request counts that only the
canonical entry holds, so it is read with the database's JSON functions, and only for the
match entries of the window. Everything is limited to the reader's scope (one partner, or
all for the partnership's DPO), decided by the policy before this module runs.

"Unusual share of misses": a partner whose queries hit far less often than the
partnership's overall hit rate predicts may be testing guesses (enumeration). The test is
binomial: with ``n`` identifiers asked and overall hit rate ``p``, the partner is flagged
when its hits fall more than :data:`MISS_Z` standard deviations below ``n * p``.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from gateway.abuse.queries import list_alerts
from gateway.alerts.models import Alert, AlertType
from gateway.audit_trail.events import Activity, AuditTag, tags_of
from gateway.audit_trail.models import AuditEntry
from gateway.console.period import Period
from gateway.console.review import Review, Scope, build_review
from gateway.console.sql import body_count
from gateway.disputes.models import Dispute, DisputeStatus
from gateway.disputes.service import open_disputes_for_reporter
from gateway.epochs.models import EpochState, KeyEpoch
from gateway.feedback.service import reporter_precision
from gateway.indicators.models import Indicator
from gateway.partners.models import Partner, PartnerStatus
from gateway.requests.service import open_requests_by_partner

MISS_Z = 3.0
MIN_ITEMS_FOR_MISSES = 20
MIN_VERDICTS = 3
TOP_GROUPS = 8
MATCH_TAGS = (AuditTag.MATCH_QUERY_ALLOW.value,)


@dataclass(frozen=True, slots=True)
class DayCounts:
    day: date
    allow: int
    deny: int
    other: int

    @property
    def total(self) -> int:
        return self.allow + self.deny + self.other


@dataclass(frozen=True, slots=True)
class MissSignal:
    partner: str
    items: int
    hits: int
    expected: int


@dataclass(frozen=True, slots=True)
class Attention:
    """One thing that needs a person: a message key with its values."""

    key: str
    values: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Overview:
    days: list[DayCounts]
    by_partner: list[tuple[str, int]]
    by_purpose: list[tuple[str, int]]
    decided: int
    denied: int
    items: int
    hits: int
    alerts: int
    review: Review
    attention: list[Attention] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(day.total for day in self.days)

    @property
    def denial_rate(self) -> float | None:
        return self.denied / self.decided if self.decided else None

    @property
    def match_rate(self) -> float | None:
        return self.hits / self.items if self.items else None


def _day(session: Session) -> ColumnElement[Any]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", AuditEntry.time), "YYYY-MM-DD")
    return func.strftime("%Y-%m-%d", AuditEntry.time)


def _window(query: Any, since: datetime, until: datetime, scope: str | None) -> Any:
    """Data exchange of the window: oversight (console, CLI, administration) is not counted."""
    query = query.where(
        AuditEntry.time >= since,
        AuditEntry.time < until,
        AuditEntry.tag.in_(tags_of(Activity.EXCHANGE)),
    )
    if scope is not None:
        query = query.where(AuditEntry.actor_partner == scope)
    return query


def _days(session: Session, since: datetime, until: datetime, scope: str | None) -> list[DayCounts]:
    day = _day(session)
    rows = session.execute(
        _window(select(day, AuditEntry.decision, func.count()), since, until, scope).group_by(
            day, AuditEntry.decision
        )
    )
    found: dict[str, dict[str, int]] = defaultdict(lambda: {"allow": 0, "deny": 0, "other": 0})
    for text, decision, count in rows:
        key = decision if decision in ("allow", "deny") else "other"
        found[str(text)][key] += int(count)
    result = []
    for offset in range((until.date() - since.date()).days):
        current = since.date() + timedelta(days=offset)
        counts = found.get(current.isoformat(), {"allow": 0, "deny": 0, "other": 0})
        result.append(DayCounts(current, counts["allow"], counts["deny"], counts["other"]))
    return result


def _grouped(
    session: Session, column: Any, since: datetime, until: datetime, scope: str | None
) -> list[tuple[str, int]]:
    rows = session.execute(
        _window(select(column, func.count()), since, until, scope)
        .where(column.is_not(None))
        .group_by(column)
        .order_by(func.count().desc())
        .limit(TOP_GROUPS)
    )
    return [(str(name), int(count)) for name, count in rows]


def _matches(
    session: Session, since: datetime, until: datetime, scope: str | None
) -> dict[str, tuple[int, int]]:
    """Per partner: (identifiers asked, hits) in allowed match queries of the window."""
    items, hits = body_count(session, "items"), body_count(session, "hits")
    rows = session.execute(
        _window(
            select(AuditEntry.actor_partner, func.sum(items), func.sum(hits)), since, until, scope
        )
        .where(AuditEntry.tag.in_(MATCH_TAGS))
        .group_by(AuditEntry.actor_partner)
    )
    return {str(partner): (int(asked or 0), int(hit or 0)) for partner, asked, hit in rows}


def miss_signals(per_partner: dict[str, tuple[int, int]]) -> list[MissSignal]:
    """Partners whose hits are improbably few for the number of identifiers they asked."""
    asked = sum(items for items, _ in per_partner.values())
    found = sum(hits for _, hits in per_partner.values())
    if not asked or not found:
        return []
    rate = found / asked
    signals = []
    for partner, (items, hits) in sorted(per_partner.items()):
        if items < MIN_ITEMS_FOR_MISSES:
            continue
        expected = items * rate
        spread = math.sqrt(items * rate * (1 - rate)) or 1.0
        if (expected - hits) / spread > MISS_Z:
            signals.append(MissSignal(partner, items, hits, round(expected)))
    return signals


def alerts_raised(session: Session, since: datetime, until: datetime, scope: str | None) -> int:
    """Watch-list alerts and updates raised for ``scope``'s partners in the window."""
    query = (
        select(func.count())
        .select_from(Alert)
        .where(
            Alert.created_at >= since,
            Alert.created_at < until,
            Alert.type.in_((AlertType.ALERT.value, AlertType.UPDATE.value)),
        )
    )
    if scope is not None:
        query = query.where(Alert.partner_id == scope)
    return int(session.scalar(query) or 0)


def _disputes(session: Session, scope: str | None) -> Attention | None:
    if scope is not None:
        waiting = open_disputes_for_reporter(session, scope)
        if not waiting:
            return None
        oldest = min(item.created_at for item in waiting)
        return Attention("overview.disputes", {"count": len(waiting), "since": oldest.date()})
    count, oldest_at = session.execute(
        select(func.count(), func.min(Dispute.created_at)).where(
            Dispute.status == DisputeStatus.OPEN.value
        )
    ).one()
    if not count:
        return None
    return Attention("overview.disputes", {"count": int(count), "since": oldest_at.date()})


def _precision(session: Session, scope: str | None) -> list[Attention]:
    found = []
    for row in reporter_precision(session):
        if scope is not None and row.reporter != scope:
            continue
        total = row.confirmed + row.false_positive + row.unknown
        if total >= MIN_VERDICTS and row.false_positive * 2 > total:
            found.append(
                Attention(
                    "overview.precision",
                    {"partner": row.reporter, "false_positive": row.false_positive, "total": total},
                )
            )
    return found


def _retiring_epochs(session: Session) -> list[Attention]:
    """Salt epochs in their overlap window: partners must have re-hashed before it ends."""
    rows = session.scalars(
        select(KeyEpoch).where(KeyEpoch.state == EpochState.RETIRING.value).order_by(KeyEpoch.epoch)
    )
    return [
        Attention(
            "overview.epoch_retiring",
            {
                "epoch": row.epoch,
                "until": row.overlap_ends_at.date() if row.overlap_ends_at else "?",
            },
        )
        for row in rows
    ]


def _partners_left(session: Session, now: datetime) -> list[Attention]:
    """Partners offboarded (``ppsgate partner offboard``), with the indicators still kept."""
    kept = (
        select(Indicator.partner_id, func.count().label("kept"))
        .where(Indicator.expires_at > now)
        .group_by(Indicator.partner_id)
        .subquery()
    )
    rows = session.execute(
        select(Partner.id, Partner.status_changed_at, func.coalesce(kept.c.kept, 0))
        .outerjoin(kept, kept.c.partner_id == Partner.id)
        .where(Partner.status == PartnerStatus.LEFT.value)
        .order_by(Partner.status_changed_at.desc(), Partner.id)
    )
    return [
        Attention(
            "overview.partner_left",
            {"partner": partner, "since": left_at.date() if left_at else "?", "kept": int(n)},
        )
        for partner, left_at, n in rows
    ]


def _enumeration(session: Session, scope: str | None) -> list[Attention]:
    """Dictionary-style querying the gateway detected (for the partnership's DPO: scope all)."""
    if scope is not None:
        return []
    return [
        Attention(
            "overview.enumeration",
            {
                "partner": alert.partner_id,
                "purpose": alert.purpose,
                "items": alert.items,
                "distinct": alert.distinct_tokens,
                "hits": alert.hits,
                "since": alert.window_start.isoformat(timespec="minutes"),
            },
        )
        for alert in list_alerts(session, limit=20)
    ]


def _open_requests(session: Session, scope: str | None, now: datetime) -> list[Attention]:
    """Requests from other partners still waiting for a partner's answer (before deadline)."""
    waiting = open_requests_by_partner(session, now)
    return [
        Attention("overview.requests_open", {"partner": partner, "count": count})
        for partner, count in sorted(waiting.items())
        if scope is None or partner == scope
    ]


def build_overview(session: Session, *, scope: str | None, period: Period) -> Overview:
    """Data exchange, rates, the period's review and attention items, within ``scope``."""
    start, until = period.start, period.end
    per_day = _days(session, start, until, scope)
    matches = _matches(session, start, until, scope)
    decided = sum(day.allow + day.deny for day in per_day)
    attention: list[Attention] = [
        Attention(
            "overview.misses",
            {"partner": s.partner, "items": s.items, "hits": s.hits, "expected": s.expected},
        )
        for s in miss_signals(matches)
    ]
    disputes = _disputes(session, scope)
    if disputes is not None:
        attention.append(disputes)
    attention.extend(_precision(session, scope))
    attention.extend(_retiring_epochs(session))
    attention.extend(_partners_left(session, until))
    attention.extend(_enumeration(session, scope))
    attention.extend(_open_requests(session, scope, until))
    return Overview(
        days=per_day,
        by_partner=_grouped(session, AuditEntry.actor_partner, start, until, scope),
        by_purpose=_grouped(session, AuditEntry.purpose, start, until, scope),
        decided=decided,
        denied=sum(day.deny for day in per_day),
        items=sum(items for items, _ in matches.values()),
        hits=sum(hits for _, hits in matches.values()),
        alerts=alerts_raised(session, start, until, scope),
        review=build_review(session, Scope(period, scope)),
        attention=attention,
    )
