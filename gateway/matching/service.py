"""Answering matches: one lookup for the whole batch, one decision per (kind, hashing spec).

A denied (kind, spec), for example phone tokens under v1 where the deployment requires v2,
refuses the whole request (an audited 403) like a denied kind: a match answers per token, so
there is no row to reject without telling the caller something about it.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from gateway.abuse import charge_quota, watch_for_enumeration
from gateway.alerts.service import record_match_disclosures
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.epochs.validity import refuse_invalid_epochs
from gateway.indicators.evidence import disclose, lookup_evidence
from gateway.indicators.schemas import MatchResult, Receipt
from gateway.matching.schemas import MatchRequest, MatchResponse, disclosed_fields
from gateway.policy.active import suppressed_tokens
from gateway.policy.decision import Action, DecisionRequest
from gateway.policy.obligations import obligations_out
from gateway.policy.refusals import refusal
from gateway.services import Services


def match_batch(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    body: MatchRequest,
) -> MatchResponse:
    refuse_invalid_epochs(  # a 422 naming items.N.epoch, audited as a denied query
        session,
        services,
        epochs=[item.epoch for item in body.items],
        request_id=request_id,
        tag=AuditTag.MATCH_QUERY_DENY,
        actor_partner=principal.partner_id,
        actor_client=principal.client_id,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
    )
    keys = sorted({(item.kind.value, item.spec) for item in body.items})
    decisions = {
        (kind, spec): services.policy.decide(
            DecisionRequest(
                action=Action.MATCH_QUERY,
                partner_id=principal.partner_id,
                context={"partner_sector": principal.sector},
                purpose=body.purpose,
                legal_basis=body.legal_basis,
                kinds=(kind,),
                specs=((kind, spec),),
                batch_size=len(body.items),
            )
        )
        for kind, spec in keys
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
        raise refusal(tuple(denied), text or "denied by policy", field="purpose", reasons=codes)
    charge = charge_quota(
        session,
        services,
        principal,
        request_id=request_id,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        decision=decisions[keys[0]],
        items=len(body.items),
        deny_tag=AuditTag.MATCH_QUERY_DENY,
    )

    hashes = services.pepper.tokens([(item.token, item.epoch) for item in body.items])
    evidence = lookup_evidence(
        session,
        sorted(set(hashes)),
        exclude_partner=None if body.include_own else principal.partner_id,
        now=services.clock.now(),
    )
    watch_for_enumeration(
        session,
        services,
        charge,
        token_hashes=hashes,
        hits=sum(token_hash in evidence for token_hash in hashes),
        request_id=request_id,
    )
    suppressed = suppressed_tokens(services.policy)
    results = [
        MatchResult(row=index, hit=False, suppressed=True)
        if token_hash in suppressed
        else disclose(index, evidence.get(token_hash), decisions[(item.kind.value, item.spec)])
        for index, (item, token_hash) in enumerate(zip(body.items, hashes, strict=True))
    ]
    hits = sum(result.hit for result in results)
    record_match_disclosures(
        session,
        principal.partner_id,
        request_id,
        [(r.row, hashes[r.row]) for r in results if r.hit],
        services.clock.now(),
    )
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
                "disclosed": {hashes[r.row].hex(): disclosed_fields(r) for r in results if r.hit},
            },
        ),
    )
    return MatchResponse(
        request_id=request_id,
        hits=hits,
        results=results,
        disclosure=granted,
        obligations=obligations_out(decisions.values()) if hits else [],
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=digest),
    )
