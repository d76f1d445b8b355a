"""Recording outcomes and computing each reporter's precision.

Precision = confirmed / (confirmed + false_positive) over the verdicts about tokens a
reporter reported; policies may use it to weigh corroboration and the console shows it.
A partner's later verdict about the same token replaces its earlier one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import AuditTag
from gateway.feedback.models import Feedback
from gateway.indicators.models import Indicator
from gateway.indicators.schemas import OneToken, Receipt
from gateway.pipeline import RequestContext
from gateway.policy.decision import Action

Outcome = Literal["confirmed", "false_positive", "unknown"]


class FeedbackRequest(OneToken):
    outcome: Outcome


class FeedbackResponse(BaseModel):
    request_id: str
    outcome: Outcome
    receipt: Receipt


@dataclass(frozen=True, slots=True)
class Precision:
    reporter: str
    confirmed: int
    false_positive: int
    unknown: int

    @property
    def precision(self) -> float | None:
        decided = self.confirmed + self.false_positive
        return self.confirmed / decided if decided else None


def submit_feedback(ctx: RequestContext, body: FeedbackRequest) -> FeedbackResponse:
    tag = AuditTag.FEEDBACK_OUTCOME_SUBMIT
    decision = ctx.decide(
        Action.FEEDBACK_SUBMIT, kinds=(body.kind,), specs=((body.kind, body.spec),)
    )
    ctx.admit(tag, [decision], items=1, metered=False)
    session, services, principal = ctx.session, ctx.services, ctx.principal
    token_hash = services.pepper.token(body.token, epoch=body.epoch)
    existing = session.execute(
        select(Feedback).where(
            Feedback.partner_id == principal.partner_id, Feedback.token_hash == token_hash
        )
    ).scalar_one_or_none()
    now = services.clock.now()
    if existing is None:
        session.add(
            Feedback(
                partner_id=principal.partner_id,
                token_hash=token_hash,
                outcome=body.outcome,
                created_at=now,
            )
        )
    else:
        existing.outcome, existing.created_at = body.outcome, now
    session.flush()
    detail = {"tokens": [token_hash.hex()], "outcome": body.outcome}
    receipt = ctx.record(ctx.event(tag, [decision], counts={"items": 1}, detail=detail))
    return FeedbackResponse(
        request_id=ctx.request_id,
        outcome=body.outcome,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=decision.policy_digest),
    )


def reporter_precision(session: Session) -> list[Precision]:
    """Verdicts about each reporter's tokens, counted once per (verdict, reporter)."""
    reported = (
        select(Indicator.partner_id.label("reporter"), Indicator.token_hash).distinct().subquery()
    )
    rows = session.execute(
        select(reported.c.reporter, Feedback.outcome, func.count())
        .join(Feedback, Feedback.token_hash == reported.c.token_hash)
        .where(Feedback.partner_id != reported.c.reporter)
        .group_by(reported.c.reporter, Feedback.outcome)
    )
    counts: dict[str, dict[str, int]] = {}
    for reporter, outcome, count in rows:
        counts.setdefault(reporter, {})[outcome] = int(count)
    return [
        Precision(reporter, c.get("confirmed", 0), c.get("false_positive", 0), c.get("unknown", 0))
        for reporter, c in sorted(counts.items())
    ]
