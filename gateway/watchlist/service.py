"""Adding and removing watch-list entries (a partner's own customers' tokens)."""

from __future__ import annotations

from sqlalchemy import delete, select

from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import AuditTag
from gateway.dialect import insert_ignoring_conflicts
from gateway.epochs.validity import epoch_validity
from gateway.identifiers import kind_problem, token_problem
from gateway.indicators.schemas import Receipt
from gateway.indicators.watchers import evaluate_watchers
from gateway.pipeline import RequestContext
from gateway.policy.decision import Action, Decision
from gateway.policy.specs import denied_field, row_denial_text
from gateway.watchlist.schemas import (
    UnwatchRequest,
    UnwatchResponse,
    WatchRequest,
    WatchResponse,
    WatchRowResult,
)

WRITE = AuditTag.WATCHLIST_ENTRIES_WRITE
# (row, kind, spec, epoch, peppered token) of a row that passed the checks before a decision
_Valid = tuple[int, str, str, int, bytes]


def add_entries(ctx: RequestContext, body: WatchRequest) -> WatchResponse:
    """Add watch entries; alerts for tokens that others already reported follow at once.

    Decided per (kind, hashing spec) — a deployment may require v2 for a kind; refused as a
    whole only when every decision denies, otherwise the denied rows are rejected."""
    results: dict[int, WatchRowResult] = {}
    valid = _checked(ctx, body, results)
    decisions = ctx.decide_each(
        Action.WATCHLIST_WRITE,
        ((kind, spec) for _, kind, spec, _, _ in valid),
        lambda key: {"kinds": (key[0],), "specs": (key,), "batch_size": len(body.items)},
    )
    ctx.admit(WRITE, decisions, items=len(body.items), refuse_if="all")
    storable = []
    for index, kind, spec, epoch, token_hash in valid:
        decision = decisions[(kind, spec)]
        if decision.allow:
            storable.append((index, kind, epoch, token_hash))
            continue
        reason = row_denial_text(decision, kind, spec)
        field = denied_field(decision)
        results[index] = WatchRowResult(row=index, status="rejected", field=field, reason=reason)
    if storable:
        results.update(_store(ctx, body, storable))
    ordered = [results[i] for i in range(len(body.items))]
    tokens = sorted({token_hash.hex() for *_, token_hash in storable})
    return _answer(ctx, list(decisions.values()), ordered, tokens)


def _checked(
    ctx: RequestContext, body: WatchRequest, results: dict[int, WatchRowResult]
) -> list[_Valid]:
    """Rows with a known kind, a well-formed token and a usable epoch, peppered; the others
    rejected in ``results``."""
    valid: list[_Valid] = []
    epochs = epoch_validity(ctx.session, ctx.services.clock.now(), ctx.services.registry)
    for index, item in enumerate(body.items):
        problem = kind_problem(item.kind)
        field = "kind"
        if problem is None:
            problem, field = token_problem(item.token), "token"
        if problem is None:
            problem, field = epochs.problem(item.epoch), "epoch"
        if problem is not None:
            results[index] = WatchRowResult(
                row=index, status="rejected", field=field, reason=problem
            )
        else:
            token_hash = ctx.services.pepper.token(item.token, epoch=item.epoch)
            valid.append((index, item.kind, item.spec, item.epoch, token_hash))
    return valid


def _store(
    ctx: RequestContext, body: WatchRequest, storable: list[tuple[int, str, int, bytes]]
) -> dict[int, WatchRowResult]:
    """Insert the new entries (existing ones are kept), evaluate the watchers; row results."""
    session, partner_id, now = ctx.session, ctx.principal.partner_id, ctx.services.clock.now()
    statement = insert_ignoring_conflicts(
        session, WatchEntry, ["partner_id", "token_hash", "purpose"]
    ).returning(WatchEntry.id)
    rows = [
        {
            "partner_id": partner_id,
            "kind": kind,
            "epoch": epoch,
            "token_hash": token_hash,
            "purpose": body.purpose,
            "legal_basis": body.legal_basis,
            "created_at": now,
        }
        for _, kind, epoch, token_hash in storable
    ]
    new_ids: set[int] = set()
    for start in range(0, len(rows), 1000):
        new_ids.update(session.execute(statement, rows[start : start + 1000]).scalars())
    hashes = sorted({token_hash for *_, token_hash in storable})
    ids = {
        bytes(token_hash): watch_id
        for token_hash, watch_id in session.execute(
            select(WatchEntry.token_hash, WatchEntry.id).where(
                WatchEntry.partner_id == partner_id,
                WatchEntry.purpose == body.purpose,
                WatchEntry.token_hash.in_(hashes),
            )
        )
    }
    results: dict[int, WatchRowResult] = {}
    for index, _, _, token_hash in storable:
        watch_id = ids[token_hash]
        status = "added" if watch_id in new_ids else "existing"
        new_ids.discard(watch_id)
        results[index] = WatchRowResult(row=index, status=status, watch_id=watch_id)
    evaluate_watchers(session, ctx.services, set(hashes), ctx.request_id)
    return results


def _answer(
    ctx: RequestContext, decisions: list[Decision], ordered: list[WatchRowResult], tokens: list[str]
) -> WatchResponse:
    """The write's audit entry (allowed: some rows were decided for) and the response."""
    counts = {
        status: sum(r.status == status for r in ordered)
        for status in ("added", "existing", "rejected")
    }
    event = ctx.event(
        WRITE,
        decisions,
        decision="allow",
        counts={"items": len(ordered), **counts},
        detail={"tokens": tokens},
    )
    receipt = ctx.record(event)
    return WatchResponse(
        request_id=ctx.request_id,
        results=ordered,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=event.policy_digest or ""),
        **counts,
    )


def remove_entries(ctx: RequestContext, body: UnwatchRequest) -> UnwatchResponse:
    """Remove the caller's own entries; ids of other partners are silently not theirs."""
    result = ctx.session.execute(
        delete(WatchEntry).where(
            WatchEntry.partner_id == ctx.principal.partner_id, WatchEntry.id.in_(body.watch_ids)
        )
    )
    removed = int(getattr(result, "rowcount", 0) or 0)
    counts = {"items": len(body.watch_ids), "removed": removed}
    event = ctx.event(AuditTag.WATCHLIST_ENTRIES_REMOVE, decision="allow", counts=counts)
    receipt = ctx.record(event)
    return UnwatchResponse(
        request_id=ctx.request_id,
        removed=removed,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=event.policy_digest or ""),
    )
