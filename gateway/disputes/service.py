"""Filing and resolving disputes.

Filing marks every live report of the token disputed (whoever reported it), so other partners
see only a flagged hit, and tells everyone who already learned more that it is contested.
Each reporter then confirms or retracts its own reports; the dispute closes when none of
them is still disputed.

Because a dispute hides other partners' reports, only a party with its own standing for the
identifier may file one; the policy decides (``policies/gateway/disputes``) from the fact
the gateway states: whether the filer holds the token on its own watch list. Filing is
charged to the purpose's quota and watched for mass filing like a match, and its answer is
only "filed": neither the answer nor the filer's audit entry says whether or how many
reports exist (the reporters' resolutions do, for them and the DPO).
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from gateway.abuse import watch_for_enumeration
from gateway.alerts.models import WatchEntry
from gateway.alerts.service import notify_retraction
from gateway.audit_trail.events import AuditTag
from gateway.disputes.models import Dispute, DisputeStatus
from gateway.errors import NotFoundError
from gateway.indicators.models import Indicator, IndicatorStatus
from gateway.indicators.schemas import OneToken, Receipt
from gateway.pipeline import RequestContext
from gateway.policy.decision import Action

MASS_DISPUTE_FILING = "mass-dispute-filing"

Grounds = Literal["identity-misuse", "account-taken-over", "not-involved", "other"]


class DisputeRequest(OneToken):
    grounds: Grounds


class DisputeFiled(BaseModel):
    """All a filer learns: the dispute was filed (never whether reports exist)."""

    dispute_id: int
    status: Literal["filed"] = "filed"
    receipt: Receipt


class DisputeOut(BaseModel):
    dispute_id: int
    status: str
    disputed_reports: int
    receipt: Receipt | None = None


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Literal["confirm", "retract"]


class OwnDisputedReport(BaseModel):
    category: str
    kind: str
    epoch: int
    observed_at: datetime


class OpenDispute(BaseModel):
    dispute_id: int
    grounds: str
    created_at: datetime
    your_reports: list[OwnDisputedReport]


def watches(session: Session, partner_id: str, token_hash: bytes) -> bool:
    """Whether the partner holds the token on its own watch list (its own customer's)."""
    found = session.execute(
        select(WatchEntry.id)
        .where(WatchEntry.partner_id == partner_id, WatchEntry.token_hash == token_hash)
        .limit(1)
    ).first()
    return found is not None


def _reported(session: Session, token_hash: bytes) -> bool:
    """Whether any live report of the token exists (the gateway's own view, never returned)."""
    found = session.execute(
        select(Indicator.id)
        .where(Indicator.token_hash == token_hash, Indicator.status == IndicatorStatus.ACTIVE.value)
        .limit(1)
    ).first()
    return found is not None


def _mark_disputed(session: Session, token_hash: bytes) -> None:
    session.execute(
        update(Indicator)
        .where(Indicator.token_hash == token_hash, Indicator.status == IndicatorStatus.ACTIVE.value)
        .values(status=IndicatorStatus.DISPUTED.value)
    )


def file_dispute(ctx: RequestContext, body: DisputeRequest) -> DisputeFiled:
    session, services, principal = ctx.session, ctx.services, ctx.principal
    tag = AuditTag.DISPUTE_CASE_FILE
    token_hash = services.pepper.token(body.token, epoch=body.epoch)
    decision = ctx.decide(
        Action.DISPUTE_FILE,
        kinds=(body.kind,),
        specs=((body.kind, body.spec),),
        context={"watching": watches(session, principal.partner_id, token_hash)},
    )
    charge = ctx.admit(tag, [decision], items=1)
    assert charge is not None  # filing is metered
    # Counted before the request writes: the statistics commit on another connection, which
    # on SQLite would wait for this transaction's write lock.
    watch_for_enumeration(
        session,
        services,
        charge,
        token_hashes=[token_hash],
        hits=int(_reported(session, token_hash)),
        request_id=ctx.request_id,
        kind=MASS_DISPUTE_FILING,
    )
    _mark_disputed(session, token_hash)
    dispute = Dispute(
        token_hash=token_hash,
        kind=body.kind,
        filed_by=principal.partner_id,
        grounds=body.grounds,
        status=DisputeStatus.OPEN.value,
        created_at=services.clock.now(),
    )
    session.add(dispute)
    session.flush()
    notify_retraction(session, services, {token_hash}, reason="disputed")
    receipt = ctx.record(
        ctx.event(
            tag,
            [decision],
            counts={"items": 1, "dispute": dispute.id},
            detail={"tokens": [token_hash.hex()], "grounds": body.grounds},
        )
    )
    return DisputeFiled(
        dispute_id=dispute.id,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=decision.policy_digest),
    )


def open_disputes_for_reporter(session: Session, partner_id: str) -> list[OpenDispute]:
    """Open disputes that concern the partner's own reports (described without tokens)."""
    rows = session.execute(
        select(Dispute, Indicator)
        .join(Indicator, Indicator.token_hash == Dispute.token_hash)
        .where(
            Dispute.status == DisputeStatus.OPEN.value,
            Indicator.partner_id == partner_id,
            Indicator.status == IndicatorStatus.DISPUTED.value,
        )
        .order_by(Dispute.id)
    )
    grouped: dict[int, OpenDispute] = {}
    for dispute, indicator in rows:
        entry = grouped.setdefault(
            dispute.id,
            OpenDispute(
                dispute_id=dispute.id,
                grounds=dispute.grounds,
                created_at=dispute.created_at,
                your_reports=[],
            ),
        )
        entry.your_reports.append(
            OwnDisputedReport(
                category=indicator.category,
                kind=indicator.kind,
                epoch=indicator.epoch,
                observed_at=indicator.observed_at,
            )
        )
    return list(grouped.values())


def resolve(ctx: RequestContext, *, dispute_id: int, body: ResolveRequest) -> DisputeOut:
    """A reporter confirms or retracts its own disputed reports."""
    session, services, principal = ctx.session, ctx.services, ctx.principal
    dispute = session.get(Dispute, dispute_id)
    if dispute is None or dispute.status != DisputeStatus.OPEN.value:
        raise NotFoundError("no open dispute with this id concerns your reports", field="id")
    own = (
        Indicator.token_hash == dispute.token_hash,
        Indicator.partner_id == principal.partner_id,
        Indicator.status == IndicatorStatus.DISPUTED.value,
    )
    target = IndicatorStatus.ACTIVE if body.outcome == "confirm" else IndicatorStatus.RETRACTED
    result = session.execute(update(Indicator).where(*own).values(status=target.value))
    changed = int(getattr(result, "rowcount", 0) or 0)
    if changed == 0:
        raise NotFoundError("no open dispute with this id concerns your reports", field="id")
    notices = 0
    if body.outcome == "retract":
        notices = notify_retraction(
            session, services, {dispute.token_hash}, reason="retracted after a dispute"
        )
    still = session.execute(
        select(Indicator.id)
        .where(
            Indicator.token_hash == dispute.token_hash,
            Indicator.status == IndicatorStatus.DISPUTED.value,
        )
        .limit(1)
    ).first()
    if still is None:
        dispute.status = DisputeStatus.CLOSED.value
        dispute.closed_at = services.clock.now()
    session.flush()
    receipt = ctx.record(
        ctx.event(
            AuditTag.DISPUTE_CASE_RESOLVE,
            decision="allow",
            counts={"dispute": dispute.id, "changed": changed, "notices": notices},
            detail={"outcome": body.outcome},
        )
    )
    return DisputeOut(
        dispute_id=dispute.id,
        status=dispute.status,
        disputed_reports=changed,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=services.policy.digest),
    )
