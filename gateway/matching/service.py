"""Answering matches: one lookup for the whole batch, one decision per (kind, hashing spec).

A denied (kind, spec), for example phone tokens under v1 where the deployment requires v2,
refuses the whole request (an audited 403) like a denied kind: a match answers per token, so
there is no row to reject without telling the caller something about it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.abuse import watch_for_enumeration
from gateway.alerts.service import record_match_disclosures
from gateway.audit_trail.events import AuditTag
from gateway.epochs.validity import epoch_validity
from gateway.errors import InvalidRequestError
from gateway.indicators.evidence import disclose, lookup_evidence
from gateway.indicators.schemas import MatchResult, Receipt
from gateway.matching.schemas import MatchItem, MatchRequest, MatchResponse, disclosed_fields
from gateway.pipeline import RequestContext
from gateway.policy.active import suppressed_tokens
from gateway.policy.decision import Action, Decision
from gateway.policy.obligations import obligations_out

DENY = AuditTag.MATCH_QUERY_DENY


def match_batch(ctx: RequestContext, body: MatchRequest) -> MatchResponse:
    """Decide per (kind, spec), charge, look the batch up once, disclose, audit."""
    _refuse_invalid_epochs(ctx, body.items)
    decisions = ctx.decide_each(
        Action.MATCH_QUERY,
        ((item.kind.value, item.spec) for item in body.items),
        lambda key: {"kinds": (key[0],), "specs": (key,), "batch_size": len(body.items)},
    )
    charge = ctx.admit(DENY, decisions, items=len(body.items))
    services = ctx.services
    hashes = services.pepper.tokens([(item.token, item.epoch) for item in body.items])
    own = ctx.principal.partner_id
    evidence = lookup_evidence(
        ctx.session,
        sorted(set(hashes)),
        exclude_partner=None if body.include_own else own,
        now=services.clock.now(),
    )
    assert charge is not None  # a match is always metered
    hits = sum(token_hash in evidence for token_hash in hashes)
    watch_for_enumeration(
        ctx.session, services, charge, token_hashes=hashes, hits=hits, request_id=ctx.request_id
    )
    suppressed = suppressed_tokens(services.policy)
    results = [
        MatchResult(row=index, hit=False, suppressed=True)
        if token_hash in suppressed
        else disclose(index, evidence.get(token_hash), decisions[(item.kind.value, item.spec)])
        for index, (item, token_hash) in enumerate(zip(body.items, hashes, strict=True))
    ]
    return _answer(ctx, decisions, hashes, results)


def _refuse_invalid_epochs(ctx: RequestContext, items: list[MatchItem]) -> None:
    """A 422 naming ``items.N.epoch``, audited as a denied query: a match over tokens the
    partners can no longer be held to would be wrong, not merely incomplete."""
    validity = epoch_validity(ctx.session, ctx.services.clock.now(), ctx.services.registry)
    bad = [
        (index, why) for index, item in enumerate(items) if (why := validity.problem(item.epoch))
    ]
    if bad:
        index, why = bad[0]
        counts = {"items": len(items), "invalid_epoch_items": len(bad)}
        error = InvalidRequestError(why, field=f"items.{index}.epoch")
        ctx.fail(DENY, error, code="epoch-not-valid", counts=counts)


def _answer(
    ctx: RequestContext,
    decisions: Mapping[Any, Decision],
    hashes: list[bytes],
    results: list[MatchResult],
) -> MatchResponse:
    """Record the disclosures and the audit entry; the response with its receipt."""
    now = ctx.services.clock.now()
    disclosed = [(r.row, hashes[r.row]) for r in results if r.hit]
    record_match_disclosures(ctx.session, ctx.principal.partner_id, ctx.request_id, disclosed, now)
    hits = len(disclosed)
    allowed = list(decisions.values())
    receipt = ctx.record(
        ctx.event(
            AuditTag.MATCH_QUERY_ALLOW,
            allowed,
            counts={"items": len(results), "hits": hits},
            detail={
                "tokens": sorted({h.hex() for h in hashes}),
                "disclosed": {hashes[r.row].hex(): disclosed_fields(r) for r in results if r.hit},
            },
        )
    )
    digest = allowed[0].policy_digest
    return MatchResponse(
        request_id=ctx.request_id,
        hits=hits,
        results=results,
        disclosure=sorted({level.value for d in allowed for level in d.disclosure}),
        obligations=obligations_out(allowed) if hits else [],
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=digest),
    )
