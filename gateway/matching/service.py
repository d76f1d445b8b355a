"""Answering matches: one lookup for the whole batch, one decision per identifier kind.

What a caller learns is computed from the decision, never from the caller's wishes: below
the corroboration threshold only ``hit`` is shown (or nothing at all, when the policy asks
hits and misses to be indistinguishable), a disputed indicator shows only ``hit`` and
``disputed``, and the reporter's identity only with the ``reporter`` level.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.errors import PermissionDeniedError
from gateway.indicators.models import Indicator, IndicatorStatus, Role
from gateway.indicators.schemas import Receipt
from gateway.matching.schemas import MatchRequest, MatchResponse, MatchResult
from gateway.partners.models import Partner
from gateway.policy.decision import Action, Decision, DecisionRequest, Disclosure
from gateway.services import Services

HIDE_UNCORROBORATED = "hide-uncorroborated"
LOOKUP_CHUNK = 5_000


@dataclass(slots=True)
class _Evidence:
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


def _lookup(
    session: Session, hashes: list[bytes], *, exclude_partner: str | None, now: datetime
) -> dict[bytes, _Evidence]:
    evidence: dict[bytes, _Evidence] = defaultdict(_Evidence)
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
                Indicator.token_hash.in_(chunk),
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


def _disclose(row: int, found: _Evidence | None, decision: Decision) -> MatchResult:
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
    threshold = decision.corroboration
    corroborated = threshold is None or (
        len(found.reports) >= threshold.min_reports
        and len(found.reporters) >= threshold.min_reporters
    )
    if not corroborated:
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


def match_batch(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    body: MatchRequest,
) -> MatchResponse:
    kinds = sorted({item.kind for item in body.items})
    decisions = {
        kind: services.policy.decide(
            DecisionRequest(
                action=Action.MATCH_QUERY,
                partner_id=principal.partner_id,
                purpose=body.purpose,
                legal_basis=body.legal_basis,
                kinds=(kind,),
                batch_size=len(body.items),
            )
        )
        for kind in kinds
    }
    denied = [d for d in decisions.values() if not d.allow]
    digest = next(iter(decisions.values())).policy_digest
    if denied:
        codes = tuple(sorted({code for d in denied for code in d.reason_codes}))
        services.audit.record(
            session,
            AuditEvent(
                tag=AuditTag.MATCH_QUERY_DENY,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_client=principal.client_id,
                purpose=body.purpose,
                legal_basis=body.legal_basis,
                decision="deny",
                reason_codes=codes,
                policy_digest=digest,
                counts={"items": len(body.items)},
            ),
        )
        text = "; ".join(f"{r.code}: {r.text_en}" for d in denied for r in d.reasons)
        raise PermissionDeniedError(
            text or "denied by policy", field="purpose", reasons=codes, audited=True
        )

    hashes = [services.pepper.token(item.token) for item in body.items]
    evidence = _lookup(
        session,
        sorted(set(hashes)),
        exclude_partner=None if body.include_own else principal.partner_id,
        now=services.clock.now(),
    )
    results = [
        _disclose(index, evidence.get(token_hash), decisions[item.kind])
        for index, (item, token_hash) in enumerate(zip(body.items, hashes, strict=True))
    ]
    hits = sum(result.hit for result in results)
    granted = sorted({level.value for d in decisions.values() for level in d.disclosure})
    receipt = services.audit.record(
        session,
        AuditEvent(
            tag=AuditTag.MATCH_QUERY_ALLOW,
            request_id=request_id,
            actor_partner=principal.partner_id,
            actor_client=principal.client_id,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            decision="allow",
            reason_codes=tuple(sorted({c for d in decisions.values() for c in d.reason_codes})),
            policy_digest=digest,
            counts={"items": len(results), "hits": hits},
            detail={
                "tokens": sorted({h.hex() for h in hashes}),
                "disclosed": {
                    hashes[r.row].hex(): sorted(r.model_dump(exclude_none=True, exclude={"row"}))
                    for r in results
                    if r.hit
                },
            },
        ),
    )
    return MatchResponse(
        request_id=request_id,
        hits=hits,
        results=results,
        disclosure=granted,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=digest),
    )
