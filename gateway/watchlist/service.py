"""Adding and removing watch-list entries (a partner's own customers' tokens)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from gateway.abuse import charge_quota
from gateway.alerts.models import WatchEntry
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.principal import Principal
from gateway.dialect import insert_ignoring_conflicts
from gateway.epochs.validity import epoch_validity
from gateway.identifiers import kind_problem, token_problem
from gateway.indicators.schemas import Receipt
from gateway.indicators.watchers import evaluate_watchers
from gateway.policy.decision import Action, DecisionRequest
from gateway.policy.refusals import denial_text, refusal
from gateway.policy.specs import denied_field, row_denial_text
from gateway.services import Services
from gateway.watchlist.schemas import (
    UnwatchRequest,
    UnwatchResponse,
    WatchRequest,
    WatchResponse,
    WatchRowResult,
)


def add_entries(
    session: Session, services: Services, principal: Principal, request_id: str, body: WatchRequest
) -> WatchResponse:
    """Add watch entries; alerts for tokens that others already reported follow at once."""
    results: dict[int, WatchRowResult] = {}
    valid: list[tuple[int, str, str, int, bytes]] = []
    epochs = epoch_validity(session, services.clock.now())
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
            token_hash = services.pepper.token(item.token, epoch=item.epoch)
            valid.append((index, item.kind, item.spec, item.epoch, token_hash))

    # One decision per (kind, hashing spec): a deployment may require v2 for a kind.
    decisions = {
        (kind, spec): services.policy.decide(
            DecisionRequest(
                action=Action.WATCHLIST_WRITE,
                partner_id=principal.partner_id,
                context={"partner_sector": principal.sector},
                purpose=body.purpose,
                legal_basis=body.legal_basis,
                kinds=(kind,),
                specs=((kind, spec),),
                batch_size=len(body.items),
            )
        )
        for kind, spec in sorted({(kind, spec) for _, kind, spec, _, _ in valid})
    }
    digest = next(iter(decisions.values())).policy_digest if decisions else services.policy.digest
    if decisions and not any(d.allow for d in decisions.values()):
        codes = tuple(sorted({c for d in decisions.values() for c in d.reason_codes}))
        services.audit.record(
            session,
            AuditEvent(
                tag=AuditTag.WATCHLIST_ENTRIES_WRITE,
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
        text = "; ".join(denial_text(d) for d in decisions.values())
        raise refusal(tuple(decisions.values()), text, field="purpose", reasons=codes)

    allowed = [d for d in decisions.values() if d.allow]
    if allowed:
        charge_quota(
            session,
            services,
            principal,
            request_id=request_id,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            decision=allowed[0],
            items=len(body.items),
            deny_tag=AuditTag.WATCHLIST_ENTRIES_WRITE,
        )
    now = services.clock.now()
    storable = []
    for index, kind, spec, epoch, token_hash in valid:
        decision = decisions[(kind, spec)]
        if not decision.allow:
            results[index] = WatchRowResult(
                row=index,
                status="rejected",
                field=denied_field(decision),
                reason=row_denial_text(decision, kind, spec),
            )
            continue
        storable.append((index, kind, epoch, token_hash))

    new_ids: set[int] = set()
    if storable:
        statement = insert_ignoring_conflicts(
            session, WatchEntry, ["partner_id", "token_hash", "purpose"]
        ).returning(WatchEntry.id)
        rows = [
            {
                "partner_id": principal.partner_id,
                "kind": kind,
                "epoch": epoch,
                "token_hash": token_hash,
                "purpose": body.purpose,
                "legal_basis": body.legal_basis,
                "created_at": now,
            }
            for _, kind, epoch, token_hash in storable
        ]
        for start in range(0, len(rows), 1000):
            new_ids.update(session.execute(statement, rows[start : start + 1000]).scalars())
        hashes = sorted({token_hash for *_, token_hash in storable})
        ids = {
            bytes(token_hash): watch_id
            for token_hash, watch_id in session.execute(
                select(WatchEntry.token_hash, WatchEntry.id).where(
                    WatchEntry.partner_id == principal.partner_id,
                    WatchEntry.purpose == body.purpose,
                    WatchEntry.token_hash.in_(hashes),
                )
            )
        }
        for index, _, _, token_hash in storable:
            watch_id = ids[token_hash]
            status = "added" if watch_id in new_ids else "existing"
            new_ids.discard(watch_id)
            results[index] = WatchRowResult(row=index, status=status, watch_id=watch_id)
        evaluate_watchers(session, services, set(hashes), request_id)

    ordered = [results[i] for i in range(len(body.items))]
    counts = {
        status: sum(r.status == status for r in ordered)
        for status in ("added", "existing", "rejected")
    }
    receipt = services.audit.record(
        session,
        AuditEvent(
            tag=AuditTag.WATCHLIST_ENTRIES_WRITE,
            request_id=request_id,
            actor_partner=principal.partner_id,
            actor_client=principal.client_id,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            decision="allow",
            reason_codes=tuple(sorted({c for d in decisions.values() for c in d.reason_codes})),
            policy_digest=digest,
            counts={"items": len(ordered), **counts},
            detail={"tokens": sorted({h.hex() for *_, h in storable})},
        ),
    )
    return WatchResponse(
        request_id=request_id,
        results=ordered,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=digest),
        **counts,
    )


def remove_entries(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    body: UnwatchRequest,
) -> UnwatchResponse:
    """Remove the caller's own entries; ids of other partners are silently not theirs."""
    result = session.execute(
        delete(WatchEntry).where(
            WatchEntry.partner_id == principal.partner_id, WatchEntry.id.in_(body.watch_ids)
        )
    )
    removed = int(getattr(result, "rowcount", 0) or 0)
    receipt = services.audit.record(
        session,
        AuditEvent(
            tag=AuditTag.WATCHLIST_ENTRIES_REMOVE,
            request_id=request_id,
            actor_partner=principal.partner_id,
            actor_client=principal.client_id,
            decision="allow",
            policy_digest=services.policy.digest,
            counts={"items": len(body.watch_ids), "removed": removed},
        ),
    )
    return UnwatchResponse(
        request_id=request_id,
        removed=removed,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=services.policy.digest),
    )
