"""Submitting indicators: per-row checks, policy per (kind, category, spec), one atomic batch.

The request is decided once for the partner, purpose and legal basis, and then once per
distinct (kind, category, hashing spec) in the batch — a handful of decisions, never one per
row. The batch and its audit entry are flushed in the caller's transaction, so either both
exist or neither does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gateway.audit_trail.events import AuditTag
from gateway.dialect import insert_ignoring_conflicts
from gateway.epochs.validity import epoch_validity
from gateway.freetext import identifier_problem
from gateway.identifiers import kind_problem, token_problem
from gateway.indicators import bulk
from gateway.indicators.expiry import Refusal, evidence_refusal, extends_default, report_expiry
from gateway.indicators.models import Indicator, IndicatorStatus, Role
from gateway.indicators.schemas import (
    IndicatorIn,
    Receipt,
    RowResult,
    SubmitRequest,
    SubmitResponse,
)
from gateway.indicators.watchers import evaluate_watchers
from gateway.pipeline import RequestContext
from gateway.policy.active import suppressed_tokens
from gateway.policy.decision import Action, Decision
from gateway.policy.specs import denied_field, row_denial_text
from gateway.services import Services

CLOCK_SKEW = timedelta(minutes=5)
SUPPRESSED_REASON = (
    "identifier-suppressed: this identifier is on the partnership's suppression list "
    "(e.g. a shared collection account) and never counts as an indicator"
)
ROLES = frozenset(role.value for role in Role)


@dataclass(slots=True)
class _Row:
    index: int
    item: IndicatorIn
    token_hash: bytes = b""
    reference_hash: bytes = b""
    victim_hash: bytes | None = None
    expires_at: datetime | None = None
    retention_reason: str | None = None


def _row_problem(item: IndicatorIn, now: datetime) -> tuple[str, str] | None:
    """(field, reason) for a row that cannot be stored, checked before any policy call."""
    if (problem := kind_problem(item.kind)) is not None:
        return "kind", problem
    if (problem := token_problem(item.token)) is not None:
        return "token", problem
    if item.role not in ROLES:
        return "role", f"unknown role; use one of: {', '.join(sorted(ROLES))}"
    if item.reference and (problem := identifier_problem(item.reference)) is not None:
        return "reference", problem
    if item.victim is not None and token_problem(item.victim) is not None:
        return "victim", "must be 64 lowercase hex characters (the connector's keyed reference)"
    if item.observed_at.tzinfo is None:
        return "observed_at", "must include a time zone (e.g. 2026-11-29T10:00:00Z)"
    if item.observed_at > now + CLOCK_SKEW:
        return "observed_at", "lies in the future"
    if item.expires_at is not None:
        if item.expires_at.tzinfo is None:
            return "expires_at", "must include a time zone"
        if item.expires_at <= now:
            return "expires_at", "lies in the past"
    return None


def _problem_after_decision(row: _Row, decision: Decision, now: datetime) -> RowResult | None:
    """Set the row's expiry from the decision, or say why the row cannot be stored."""
    if not decision.allow:
        return RowResult(
            row=row.index,
            status="rejected",
            field=denied_field(decision),
            reason=row_denial_text(decision, row.item.kind, row.item.spec),
        )
    expiry = evidence_refusal(row.item, decision) or report_expiry(row.item, decision, now)
    if isinstance(expiry, Refusal):
        return RowResult(row=row.index, status="rejected", field=expiry.field, reason=expiry.reason)
    row.expires_at = expiry
    if extends_default(row.item, decision):
        row.retention_reason = row.item.retention_reason
    return None


def _storable(
    candidates: list[_Row],
    decisions: Mapping[Any, Decision],
    services: Services,
    results: dict[int, RowResult],
    now: datetime,
) -> list[_Row]:
    """Rows that pass their decision, retention and the suppression list, peppered."""
    storable: list[_Row] = []
    suppressed = suppressed_tokens(services.policy)
    for row in candidates:
        decided = (row.item.kind, row.item.category, row.item.spec)
        problem = _problem_after_decision(row, decisions[decided], now)
        if problem is not None:
            results[row.index] = problem
            continue
        row.token_hash = services.pepper.token(row.item.token, epoch=row.item.epoch)
        if row.token_hash in suppressed:
            results[row.index] = RowResult(
                row=row.index, status="rejected", field="token", reason=SUPPRESSED_REASON
            )
            continue
        row.reference_hash = services.pepper.reference(
            row.item.reference or "", epoch=row.item.epoch
        )
        if row.item.victim is not None:
            row.victim_hash = services.pepper.victim(row.item.victim, epoch=row.item.epoch)
        storable.append(row)
    return storable


def submit_batch(ctx: RequestContext, body: SubmitRequest) -> SubmitResponse:
    """Check, decide, store and audit one batch; see the module docstring for the rules."""
    gate = ctx.decide(Action.INDICATORS_SUBMIT, batch_size=len(body.items))
    ctx.admit(AuditTag.INDICATOR_BATCH_DENY, [gate], items=len(body.items))
    now = ctx.services.clock.now()
    results: dict[int, RowResult] = {}
    candidates = _candidates(ctx, body, now, results)
    decisions = ctx.decide_each(
        Action.INDICATORS_SUBMIT,
        ((r.item.kind, r.item.category, r.item.spec) for r in candidates),
        lambda key: {
            "kinds": (key[0],),
            "specs": ((key[0], key[2]),),
            "categories": (key[1],),
            "batch_size": len(body.items),
        },
    )
    storable = _storable(candidates, decisions, ctx.services, results, now)
    inserted = _store(ctx, body, storable)
    new_keys = set(inserted)
    for row in storable:
        key = (row.token_hash, row.item.category, row.reference_hash)
        status = "accepted" if key in inserted else "duplicate"
        results[row.index] = RowResult(
            row=row.index, status=status, expires_at=row.expires_at if key in inserted else None
        )
        inserted.discard(key)  # a repeat inside the same batch is a duplicate too
    alerts = evaluate_watchers(ctx.session, ctx.services, {k[0] for k in new_keys}, ctx.request_id)
    return _answer(ctx, gate, [results[i] for i in range(len(body.items))], storable, alerts)


def _candidates(
    ctx: RequestContext, body: SubmitRequest, now: datetime, results: dict[int, RowResult]
) -> list[_Row]:
    """Rows that pass the checks made before any decision; the others rejected in results."""
    candidates: list[_Row] = []
    epochs = epoch_validity(ctx.session, now, ctx.services.registry)
    for index, item in enumerate(body.items):
        problem = _row_problem(item, now)
        if problem is None and (why := epochs.problem(item.epoch)) is not None:
            problem = ("epoch", why)  # only the active and (in its overlap) retiring epoch
        if problem is not None:
            results[index] = RowResult(
                row=index, status="rejected", field=problem[0], reason=problem[1]
            )
        else:
            candidates.append(_Row(index=index, item=item))
    return candidates


def _answer(
    ctx: RequestContext,
    gate: Decision,
    ordered: list[RowResult],
    storable: list[_Row],
    alerts: int,
) -> SubmitResponse:
    """The batch's audit entry and the response carrying its receipt."""
    accepted = sum(r.status == "accepted" for r in ordered)
    duplicates = sum(r.status == "duplicate" for r in ordered)
    rejected = len(ordered) - accepted - duplicates
    counts = {"items": len(ordered), "accepted": accepted, "duplicates": duplicates}
    receipt = ctx.record(
        ctx.event(
            AuditTag.INDICATOR_BATCH_SUBMIT,
            [gate],
            counts={**counts, "rejected": rejected, "alerts": alerts},
            detail={"tokens": sorted({row.token_hash.hex() for row in storable})},
        )
    )
    return SubmitResponse(
        request_id=ctx.request_id,
        accepted=accepted,
        duplicates=duplicates,
        rejected=rejected,
        results=ordered,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=gate.policy_digest),
    )


def _store(
    ctx: RequestContext, body: SubmitRequest, rows: list[_Row]
) -> set[tuple[bytes, str, bytes]]:
    """Insert new reports in bulk; return the keys that were new (duplicates are skipped)."""
    if not rows:
        return set()
    session, now = ctx.session, ctx.services.clock.now()
    values = [
        {
            "partner_id": ctx.principal.partner_id,
            "kind": row.item.kind,
            "epoch": row.item.epoch,
            "token_hash": row.token_hash,
            "category": row.item.category,
            "role": row.item.role,
            "reference_hash": row.reference_hash,
            "purpose": body.purpose,
            "legal_basis": body.legal_basis,
            "confidence": row.item.confidence,
            "victim_hash": row.victim_hash,
            "evidence": row.item.evidence,
            "retention_reason": row.retention_reason,
            "status": IndicatorStatus.ACTIVE.value,
            "observed_at": row.item.observed_at,
            "expires_at": row.expires_at,
            "created_at": now,
        }
        for row in rows
    ]
    if len(values) >= bulk.COPY_THRESHOLD and session.get_bind().dialect.name == "postgresql":
        return bulk.copy_insert(session, values)  # COPY + one INSERT ... SELECT, same result
    statement = insert_ignoring_conflicts(
        session, Indicator, ["partner_id", "token_hash", "category", "reference_hash"]
    ).returning(Indicator.token_hash, Indicator.category, Indicator.reference_hash)
    new: set[tuple[bytes, str, bytes]] = set()
    for start in range(0, len(values), 1000):
        chunk = values[start : start + 1000]
        result = session.execute(statement, chunk)
        new.update((bytes(t), c, bytes(r)) for t, c, r in result.all())
    return new
