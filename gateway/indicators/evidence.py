"""Evidence about tokens and what of it a decision lets a caller see.

Shared by matches and alerts so that both disclose exactly the same way: below the
corroboration threshold only ``hit`` (or nothing, when the policy asks hits and misses to be
indistinguishable), a disputed indicator only ``hit`` and ``disputed``, a protective
registration only its role, and the reporter's identity only with the ``reporter`` level.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ColumnElement,
    DateTime,
    Dialect,
    LargeBinary,
    String,
    any_,
    bindparam,
    distinct,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session
from sqlalchemy.sql.sqltypes import NullType

from gateway.dialect import TOKEN_BYTES, hash_in
from gateway.indicators.models import Indicator, IndicatorStatus, Role
from gateway.indicators.schemas import MatchResult
from gateway.partners.models import Partner
from gateway.policy.decision import Corroboration, Decision, Disclosure

HIDE_UNCORROBORATED = "hide-uncorroborated"
DISPUTED_DO_NOT_ACT = "disputed-do-not-act"
LOOKUP_CHUNK = 5_000
RAW = NullType()  # arrays come back from psycopg as lists; no per-element processing needed


@dataclass(frozen=True, slots=True)
class Evidence:
    """What is known about one token: distinct reports and reporters, and their attributes."""

    reports: int
    reporters: frozenset[str]
    categories: frozenset[str]
    roles: frozenset[str]
    sectors: frozenset[str]
    disputed: bool
    first_seen: datetime
    last_seen: datetime
    # Distinct victims as (reporting partner, its sector, peppered victim reference): victim
    # references are keyed per reporter, so they are only ever compared within one reporter.
    victims: frozenset[tuple[str, str, bytes]] = frozenset()
    # Evidence levels stated by the reports (reports without one add nothing).
    evidence_levels: frozenset[str] = frozenset()
    # When the last report expires (the identifier is purged then unless reported again).
    expires_at: datetime | None = None


@dataclass(slots=True)
class _Collected:
    """Per-row accumulation where the database cannot aggregate into arrays (SQLite)."""

    reports: set[tuple[str, str, bytes]] = field(default_factory=set)
    reporters: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    roles: set[str] = field(default_factory=set)
    sectors: set[str] = field(default_factory=set)
    disputed: bool = False
    seen: list[datetime] = field(default_factory=list)
    victims: set[tuple[str, str, bytes]] = field(default_factory=set)
    evidence_levels: set[str] = field(default_factory=set)
    expiries: list[datetime] = field(default_factory=list)

    def evidence(self) -> Evidence:
        return Evidence(
            reports=len(self.reports),
            reporters=frozenset(self.reporters),
            categories=frozenset(self.categories),
            roles=frozenset(self.roles),
            sectors=frozenset(self.sectors),
            disputed=self.disputed,
            first_seen=min(self.seen),
            last_seen=max(self.seen),
            victims=frozenset(self.victims),
            evidence_levels=frozenset(self.evidence_levels),
            expires_at=max(self.expiries),
        )


def token_in(session: Session, hashes: list[bytes]) -> ColumnElement[bool]:
    """``indicators.token_hash`` in the batch (see :func:`hash_in`)."""
    return hash_in(session, Indicator.token_hash, hashes)


def _filters(
    session: Session, chunk: list[bytes], exclude_partner: str | None, now: datetime
) -> list[ColumnElement[bool]]:
    filters = [
        token_in(session, chunk),
        Indicator.status != IndicatorStatus.RETRACTED.value,
        Indicator.expires_at > now,
    ]
    if exclude_partner is not None:
        filters.append(Indicator.partner_id != exclude_partner)
    return filters


def lookup_evidence(
    session: Session, hashes: list[bytes], *, exclude_partner: str | None, now: datetime
) -> dict[bytes, Evidence]:
    """The evidence about each token of the batch that has any (a miss has no entry).

    PostgreSQL aggregates per token (one row per hit instead of one per report, and no
    per-report work in Python: most of a 10,000-item lookup's cost before); elsewhere the
    reports are collected row by row. Both give the same ``Evidence``.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    evidence: dict[bytes, Evidence] = {}
    for start in range(0, len(hashes), LOOKUP_CHUNK):
        chunk = hashes[start : start + LOOKUP_CHUNK]
        if postgres:
            evidence.update(_aggregated(session, chunk, exclude_partner, now))
        else:
            evidence.update(_collected(session, _filters(session, chunk, exclude_partner, now)))
    return evidence


@lru_cache(maxsize=16)  # per engine dialect (tests build many engines) and variant
def _aggregated_sql(dialect: Dialect, excluding: bool) -> tuple[str, dict[str, Any]]:
    """The PostgreSQL aggregate lookup as driver SQL, compiled once per (dialect, variant):
    building and compiling the statement per request cost more CPU than running it. Its
    parameters: ``token_pack`` (the batch's concatenated tokens), ``now`` and, when
    ``excluding``, ``exclude_partner``, beside the statement's constant ones returned with it."""
    packed = bindparam("token_pack", type_=LargeBinary)
    offset = func.generate_series(1, func.length(packed), TOKEN_BYTES).column_valued("i")
    split = select(func.substring(packed, offset, TOKEN_BYTES)).scalar_subquery()
    filters = [
        Indicator.token_hash == any_(func.array(split)),
        Indicator.status != IndicatorStatus.RETRACTED.value,
        Indicator.expires_at > bindparam("now", type_=DateTime(timezone=True)),
    ]
    if excluding:
        filters.append(Indicator.partner_id != bindparam("exclude_partner", type_=String))
    query = (
        select(
            Indicator.token_hash,
            func.count(
                distinct(tuple_(Indicator.partner_id, Indicator.category, Indicator.reference_hash))
            ),
            func.array_agg(distinct(Indicator.partner_id), type_=RAW),
            func.array_agg(distinct(Indicator.category), type_=RAW),
            func.array_agg(distinct(Indicator.role), type_=RAW),
            func.array_agg(distinct(Partner.sector), type_=RAW),
            func.bool_or(Indicator.status == IndicatorStatus.DISPUTED.value),
            func.min(Indicator.observed_at),
            func.max(Indicator.observed_at),
            func.array_agg(distinct(_VICTIM_KEY), type_=RAW).filter(
                Indicator.victim_hash.is_not(None)
            ),
            func.array_agg(distinct(Indicator.evidence), type_=RAW).filter(
                Indicator.evidence.is_not(None)
            ),
            func.max(Indicator.expires_at),
        )
        .join(Partner, Partner.id == Indicator.partner_id)
        .where(*filters)
        .group_by(Indicator.token_hash)
    )
    compiled = query.compile(dialect=dialect)
    constants = {k: v for k, v in compiled.params.items() if k not in _LOOKUP_PARAMS}
    return str(compiled), constants


_LOOKUP_PARAMS = frozenset({"token_pack", "now", "exclude_partner"})


def _aggregated(
    session: Session, chunk: list[bytes], exclude_partner: str | None, now: datetime
) -> dict[bytes, Evidence]:
    if any(len(token_hash) != TOKEN_BYTES for token_hash in chunk):
        raise ValueError(f"peppered tokens are {TOKEN_BYTES} bytes")
    connection = session.connection()
    sql, constants = _aggregated_sql(connection.dialect, exclude_partner is not None)
    params: dict[str, Any] = {**constants, "token_pack": b"".join(chunk), "now": now}
    if exclude_partner is not None:
        params["exclude_partner"] = exclude_partner
    # Driver SQL through the connection, not the ORM session: plain rows, no compilation.
    return {
        bytes(token_hash): Evidence(
            reports=reports,
            reporters=frozenset(reporters),
            categories=frozenset(categories),
            roles=frozenset(roles),
            sectors=frozenset(sectors),
            disputed=bool(disputed),
            first_seen=first,
            last_seen=last,
            victims=frozenset(_victim(key) for key in victims or ()),
            evidence_levels=frozenset(levels or ()),
            expires_at=expires,
        )
        for (
            token_hash,
            reports,
            reporters,
            categories,
            roles,
            sectors,
            disputed,
            first,
            last,
            victims,
            levels,
            expires,
        ) in connection.exec_driver_sql(sql, params).all()
    }


# One text per (reporter, sector, victim) so PostgreSQL can count them distinctly; partner ids
# and sectors hold no ":" and the reference is hex, so the text splits back exactly.
_VICTIM_KEY = (
    Indicator.partner_id + ":" + Partner.sector + ":" + func.encode(Indicator.victim_hash, "hex")
)


def _victim(key: str) -> tuple[str, str, bytes]:
    partner, sector, reference = key.rsplit(":", 2)
    return partner, sector, bytes.fromhex(reference)


def _collected(session: Session, filters: list[ColumnElement[bool]]) -> dict[bytes, Evidence]:
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
            Indicator.victim_hash,
            Indicator.evidence,
            Indicator.expires_at,
        )
        .join(Partner, Partner.id == Indicator.partner_id)
        .where(*filters)
    )
    collected: dict[bytes, _Collected] = defaultdict(_Collected)
    for row in session.connection().execute(query).all():
        _collect(collected[bytes(row[0])], row[1:])
    return {token_hash: found.evidence() for token_hash, found in collected.items()}


def _collect(found: _Collected, row: Sequence[Any]) -> None:
    """Add one report (the columns of ``_collected``'s query after the token) to ``found``."""
    partner, sector, category, role, ref, status, observed, victim, level, expires = row
    found.reports.add((partner, category, bytes(ref)))
    found.reporters.add(partner)
    found.categories.add(category)
    found.roles.add(role)
    found.sectors.add(sector)
    found.disputed = found.disputed or status == IndicatorStatus.DISPUTED.value
    found.seen.append(observed)
    if victim is not None:
        found.victims.add((partner, sector, bytes(victim)))
    if level is not None:
        found.evidence_levels.add(level)
    found.expiries.append(expires)


def counted_victims(found: Evidence, threshold: Corroboration) -> set[tuple[str, bytes]]:
    """Distinct (reporter, victim) pairs, from the threshold's reporter sectors where set."""
    sectors = threshold.reporter_sectors
    return {(p, v) for p, s, v in found.victims if not sectors or s in sectors}


def _victims_met(found: Evidence, threshold: Corroboration) -> bool:
    if threshold.min_victims <= 0 and threshold.min_victims_one_reporter <= 0:
        return True  # no victim threshold: nothing to count (most purposes; per hit of a batch)
    victims = counted_victims(found, threshold)
    most_at_one = max(Counter(partner for partner, _ in victims).values(), default=0)
    return (
        len(victims) >= threshold.min_victims and most_at_one >= threshold.min_victims_one_reporter
    )


def _evidence_met(found: Evidence, decision: Decision, minimum: str | None) -> bool:
    """At least one report states the minimum level; a level the policy lacks fails closed."""
    if minimum is None:
        return True
    needed = decision.evidence_rank(minimum)
    best = max((decision.evidence_rank(level) for level in found.evidence_levels), default=0)
    return needed > 0 and best >= needed


def is_corroborated(found: Evidence, decision: Decision) -> bool:
    """Whether the evidence meets every threshold of the decision's corroboration."""
    threshold = decision.corroboration
    if threshold is None:
        return True
    return (
        found.reports >= threshold.min_reports
        and len(found.reporters) >= threshold.min_reporters
        and _victims_met(found, threshold)
        and _evidence_met(found, decision, threshold.min_evidence)
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
        duty = [DISPUTED_DO_NOT_ACT] if DISPUTED_DO_NOT_ACT in decision.obligations else None
        return MatchResult(row=row, hit=True, disputed=True, obligations=duty)
    return _granted_details(MatchResult(row=row, hit=True, disputed=False), found, decision)


def _granted_details(result: MatchResult, found: Evidence, decision: Decision) -> MatchResult:
    """Fill in what each granted level discloses about a corroborated, undisputed hit."""
    granted = decision.disclosure
    if Disclosure.COUNT in granted:
        result.reports = found.reports
        result.reporters = len(found.reporters)
        # None when no report names a victim: "0 victims" would read as a count.
        result.victims = len({(p, v) for p, _, v in found.victims}) or None
    if Disclosure.CATEGORY in granted:
        result.categories = sorted(found.categories)
        result.evidence = sorted(found.evidence_levels, key=decision.evidence_rank)
    if Disclosure.ROLE in granted:
        result.roles = sorted(found.roles)
    if Disclosure.SECTORS in granted:
        result.sectors = sorted(found.sectors)
    if Disclosure.DATES in granted:
        result.first_seen, result.last_seen = found.first_seen, found.last_seen
        result.expires_at = found.expires_at
    if Disclosure.REPORTER in granted:
        result.reporting_partners = sorted(found.reporters)
    return result
