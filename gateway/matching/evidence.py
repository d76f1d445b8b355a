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
from typing import Any

from sqlalchemy import ColumnElement, LargeBinary, any_, bindparam, func, select
from sqlalchemy.orm import Session

from gateway.indicators.models import Indicator, IndicatorStatus, Role
from gateway.matching.schemas import MatchResult
from gateway.partners.models import Partner
from gateway.policy.decision import Decision, Disclosure

HIDE_UNCORROBORATED = "hide-uncorroborated"
LOOKUP_CHUNK = 5_000
TOKEN_BYTES = 32  # HMAC-SHA256 output: every peppered token


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
    """``token_hash`` in the batch.

    On PostgreSQL the batch travels as one ``bytea`` of concatenated 32-byte hashes, split
    by the server into the array for ``= ANY``: one small statement whatever the batch size,
    and no per-element array encoding in Python (which cost more than the lookup itself for
    10,000 items). Elsewhere an expanding ``IN``.
    """
    if session.get_bind().dialect.name == "postgresql":
        return Indicator.token_hash == any_(packed_tokens(hashes))
    return Indicator.token_hash.in_(hashes)


def packed_tokens(hashes: list[bytes]) -> ColumnElement[Any]:
    """``array((SELECT substring(:packed FROM i FOR 32) FROM generate_series(...) AS i))``."""
    if any(len(token_hash) != TOKEN_BYTES for token_hash in hashes):
        raise ValueError(f"peppered tokens are {TOKEN_BYTES} bytes")
    packed = bindparam("token_pack", value=b"".join(hashes), type_=LargeBinary)
    offset = func.generate_series(1, func.length(packed), TOKEN_BYTES).column_valued("i")
    split = select(func.substring(packed, offset, TOKEN_BYTES)).scalar_subquery()
    return func.array(split)


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
