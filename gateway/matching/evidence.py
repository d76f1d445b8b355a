"""Evidence about tokens and what of it a decision lets a caller see.

Shared by matches and alerts so that both disclose exactly the same way: below the
corroboration threshold only ``hit`` (or nothing, when the policy asks hits and misses to be
indistinguishable), a disputed indicator only ``hit`` and ``disputed``, a protective
registration only its role, and the reporter's identity only with the ``reporter`` level.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, LargeBinary, any_, bindparam, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from gateway.indicators.models import Indicator, IndicatorStatus, Role
from gateway.matching.schemas import MatchResult
from gateway.partners.models import Partner
from gateway.policy.decision import Decision, Disclosure

HIDE_UNCORROBORATED = "hide-uncorroborated"
LOOKUP_CHUNK = 5_000


@dataclass(slots=True)
class Evidence:
    reports: set[tuple[str, str, bytes]] = field(default_factory=set)
    reporters: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    sectors: set[str] = field(default_factory=set)
    disputed: bool = False
    first_seen: datetime | None = None
    last_seen: datetime | None = None

    def add(
        self,
        *,
        partner: str,
        sector: str,
        category: str,
        role: str,
        reference: bytes,
        status: str,
        observed: datetime,
    ) -> None:
        self.reports.add((partner, category, reference))
        self.reporters.add(partner)
        self.categories.add(category)
        self.roles.add(role)
        self.sectors.add(sector)
        self.disputed = self.disputed or status == IndicatorStatus.DISPUTED.value
        self.first_seen = observed if self.first_seen is None else min(self.first_seen, observed)
        self.last_seen = observed if self.last_seen is None else max(self.last_seen, observed)


def token_in(session: Session, hashes: list[bytes]) -> ColumnElement[bool]:
    """``token_hash`` in the batch: one array parameter on PostgreSQL (``= ANY``), so a batch
    of thousands is one small statement; an expanding ``IN`` elsewhere."""
    if session.get_bind().dialect.name == "postgresql":
        array = bindparam("token_hashes", value=hashes, type_=postgresql.ARRAY(LargeBinary))
        return Indicator.token_hash == any_(array)
    return Indicator.token_hash.in_(hashes)


def lookup_evidence(
    session: Session, hashes: list[bytes], *, exclude_partner: str | None, now: datetime
) -> dict[bytes, Evidence]:
    evidence: dict[bytes, Evidence] = defaultdict(Evidence)
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[start : start + LOOKUP_CHUNK]
        query = (
            select(
                Indicator.token_hash,
                Indicator.partner_id,
                Partner.sector,
                Indicator.category,
                Indicator.role,
                Indicator.reference_hash,
                Indicator.status,
                Indicator.observed_at,
            )
            .join(Partner, Partner.id == Indicator.partner_id)
            .where(
                token_in(session, chunk),
                Indicator.status != IndicatorStatus.RETRACTED.value,
                Indicator.expires_at > now,
            )
        )
        if exclude_partner is not None:
            query = query.where(Indicator.partner_id != exclude_partner)
        for token_hash, partner, sector, category, role, ref, status, observed in session.execute(
            query
        ):
            evidence[bytes(token_hash)].add(
                partner=partner,
                sector=sector,
                category=category,
                role=role,
                reference=bytes(ref),
                status=status,
                observed=observed,
            )
    return evidence


def is_corroborated(found: Evidence, decision: Decision) -> bool:
    """Whether the evidence meets the decision's corroboration threshold."""
    threshold = decision.corroboration
    return threshold is None or (
        len(found.reports) >= threshold.min_reports
        and len(found.reporters) >= threshold.min_reporters
    )


def disclose(row: int, found: Evidence | None, decision: Decision) -> MatchResult:
    """Apply the decision's disclosure levels and corroboration to one item's evidence."""
    granted = decision.disclosure
    if found is None or not decision.allow or Disclosure.HIT not in granted:
        return MatchResult(row=row, hit=False)
    protective = found.roles == {Role.VICTIM.value}
    if protective:
        # A partner's own protective registration (e.g. a bank's service number): the role is
        # the whole message, corroboration does not apply to it.
        return MatchResult(
            row=row, hit=True, roles=[Role.VICTIM.value] if Disclosure.ROLE in granted else None
        )
    if not is_corroborated(found, decision):
        if HIDE_UNCORROBORATED in decision.obligations:
            return MatchResult(row=row, hit=False)
        return MatchResult(row=row, hit=True)
    if found.disputed:
        return MatchResult(row=row, hit=True, disputed=True)
    result = MatchResult(row=row, hit=True, disputed=False)
    if Disclosure.COUNT in granted:
        result.reports = len(found.reports)
        result.reporters = len(found.reporters)
    if Disclosure.CATEGORY in granted:
        result.categories = sorted(found.categories)
    if Disclosure.ROLE in granted:
        result.roles = sorted(found.roles)
    if Disclosure.SECTORS in granted:
        result.sectors = sorted(found.sectors)
    if Disclosure.DATES in granted:
        result.first_seen, result.last_seen = found.first_seen, found.last_seen
    if Disclosure.REPORTER in granted:
        result.reporting_partners = sorted(found.reporters)
    return result
