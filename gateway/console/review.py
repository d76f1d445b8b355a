"""The figures of a period's review, shared by the overview page and the regulator's report.

Everything counts the partners' data exchange only (``events.EXCHANGE_TAGS``); the
privacy officers' own console pages, CLI and administration are counted apart as oversight
activity, so browsing the console never changes a partnership's statistics. Counts come from
the audit entries' search columns, limited to the reader's scope (one partner, or all for
the partnership's DPO); the denial reasons need the canonical body, read only for the
period's denied exchange entries.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import Activity, AuditTag, tags_of
from gateway.audit_trail.models import AuditEntry
from gateway.console.period import Period
from gateway.indicators.models import Indicator, IndicatorStatus
from gateway.policy.models import PolicyApproval, PolicyVersion

BODY_BATCH = 500
# Events a DPO reports on, counted from the audit entries of the period.
EVENT_TAGS = {
    "disputes_filed": AuditTag.DISPUTE_CASE_FILE,
    "disputes_resolved": AuditTag.DISPUTE_CASE_RESOLVE,
    "retractions": AuditTag.INDICATOR_RETRACT,
    "subject_access": AuditTag.AUDIT_SUBJECT_ACCESS,
}


@dataclass(frozen=True, slots=True)
class PurposeDecisions:
    """Decisions for one purpose; entries without a purpose are grouped by their action."""

    purpose: str | None
    action: str | None
    allow: int
    deny: int
    other: int

    @property
    def total(self) -> int:
        return self.allow + self.deny + self.other


@dataclass(frozen=True, slots=True)
class ActiveVersion:
    """A policy version active during (part of) the period, and who put it there."""

    digest: str
    activated_at: datetime | None
    activated_by: str | None
    approvers: tuple[str, ...]
    note: str
    until: datetime | None


@dataclass(frozen=True, slots=True)
class Review:
    period: Period
    by_purpose: list[PurposeDecisions]
    denial_reasons: list[tuple[str, int]]
    events: dict[str, int]
    oversight: int
    oversight_denied: int
    versions: list[ActiveVersion]
    # Live reports (within scope) by the evidence level they state; None: not stated.
    evidence: list[tuple[str | None, int]] = field(default_factory=list)

    @property
    def exchange_total(self) -> int:
        return sum(row.total for row in self.by_purpose)


@dataclass(frozen=True, slots=True)
class Scope:
    """Whose entries of which period, optionally only those below a checkpoint's tree size."""

    period: Period
    partner: str | None
    upto: int | None = None


def in_scope(query: Any, scope: Scope, activity: Activity | None) -> Any:
    """``query`` limited to the period, the partner, the head and one kind of activity."""
    query = query.where(AuditEntry.time >= scope.period.start, AuditEntry.time < scope.period.end)
    if activity is not None:
        query = query.where(AuditEntry.tag.in_(tags_of(activity)))
    if scope.partner is not None:
        query = query.where(AuditEntry.actor_partner == scope.partner)
    if scope.upto is not None:
        query = query.where(AuditEntry.seq < scope.upto)
    return query


def purpose_decisions(session: Session, scope: Scope) -> list[PurposeDecisions]:
    columns = (AuditEntry.purpose, AuditEntry.tag, AuditEntry.decision)
    query = select(*columns, func.count()).group_by(*columns)
    table: dict[tuple[str | None, str | None], dict[str, int]] = {}
    for purpose, tag, decision, count in session.execute(in_scope(query, scope, Activity.EXCHANGE)):
        key = (str(purpose), None) if purpose else (None, str(tag))
        row = table.setdefault(key, {"allow": 0, "deny": 0, "other": 0})
        row[decision if decision in ("allow", "deny") else "other"] += int(count)
    ordered = sorted(
        table.items(), key=lambda item: (item[0][0] is None, -sum(item[1].values()), item[0])
    )
    return [
        PurposeDecisions(purpose, action, row["allow"], row["deny"], row["other"])
        for (purpose, action), row in ordered
    ]


def denial_reasons(session: Session, scope: Scope) -> list[tuple[str, int]]:
    """Reason codes of the period's denied exchange requests, most frequent first."""
    query = in_scope(select(AuditEntry.body), scope, Activity.EXCHANGE).where(
        AuditEntry.decision == "deny"
    )
    found: Counter[str] = Counter()
    for body in session.scalars(query.execution_options(yield_per=BODY_BATCH)):
        entry = json.loads(bytes(body))
        found.update(str(code) for code in entry.get("reasons") or ())
    return sorted(found.items(), key=lambda item: (-item[1], item[0]))


def by_action(session: Session, scope: Scope, activity: Activity | None) -> dict[str, int]:
    """Entries per action (tag) of one activity, or of all when ``activity`` is None."""
    query = select(AuditEntry.tag, func.count()).group_by(AuditEntry.tag)
    return {str(tag): int(n) for tag, n in session.execute(in_scope(query, scope, activity))}


def _events(session: Session, scope: Scope) -> dict[str, int]:
    counted = by_action(session, scope, None)
    return {name: counted.get(tag.value, 0) for name, tag in EVENT_TAGS.items()}


def _oversight(session: Session, scope: Scope) -> tuple[int, int]:
    query = select(AuditEntry.decision, func.count()).group_by(AuditEntry.decision)
    rows = session.execute(in_scope(query, scope, Activity.OVERSIGHT))
    counted = {decision: int(n) for decision, n in rows}
    return sum(counted.values()), counted.get("deny", 0)


def active_versions(session: Session, period: Period) -> list[ActiveVersion]:
    """The policy versions in force at some moment of the period, oldest first."""
    activated = list(
        session.scalars(
            select(PolicyVersion)
            .where(PolicyVersion.activated_at.is_not(None))
            .order_by(PolicyVersion.activated_at)
        )
    )
    approvals: dict[str, list[str]] = {}
    for digest, approver in session.execute(
        select(PolicyApproval.digest, PolicyApproval.approver).order_by(PolicyApproval.created_at)
    ):
        approvals.setdefault(digest, []).append(approver)
    found = []
    for index, version in enumerate(activated):
        until = activated[index + 1].activated_at if index + 1 < len(activated) else None
        starts_in_time = version.activated_at is not None and version.activated_at < period.end
        if starts_in_time and (until is None or until > period.start):
            found.append(
                ActiveVersion(
                    digest=version.digest,
                    activated_at=version.activated_at,
                    activated_by=version.activated_by,
                    approvers=tuple(approvals.get(version.digest, ())),
                    note=version.note,
                    until=until,
                )
            )
    return found


def evidence_levels(
    session: Session, partner: str | None, now: datetime
) -> list[tuple[str | None, int]]:
    """Live reports by evidence level, most reports first."""
    query = (
        select(Indicator.evidence, func.count())
        .where(Indicator.status != IndicatorStatus.RETRACTED.value, Indicator.expires_at > now)
        .group_by(Indicator.evidence)
    )
    if partner is not None:
        query = query.where(Indicator.partner_id == partner)
    counted = [(level, int(count)) for level, count in session.execute(query)]
    return sorted(counted, key=lambda pair: (-pair[1], pair[0] or ""))


def build_review(session: Session, scope: Scope) -> Review:
    oversight, oversight_denied = _oversight(session, scope)
    return Review(
        period=scope.period,
        by_purpose=purpose_decisions(session, scope),
        denial_reasons=denial_reasons(session, scope),
        events=_events(session, scope),
        oversight=oversight,
        oversight_denied=oversight_denied,
        versions=active_versions(session, scope.period),
        evidence=evidence_levels(session, scope.partner, scope.period.end),
    )
