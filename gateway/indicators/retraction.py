"""Retracting one's own indicators; everyone who was told about them gets a notice."""

from __future__ import annotations

from dataclasses import replace

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.orm import Session

from gateway.alerts.service import notify_retraction
from gateway.audit_trail.events import AuditTag
from gateway.auth.principal import Principal
from gateway.freetext import FreeText
from gateway.guard import decide_or_refuse
from gateway.identifiers import DEFAULT_SPEC, TOKEN_PATTERN, Kind, Spec
from gateway.indicators.models import Indicator, IndicatorStatus
from gateway.indicators.schemas import MAX_BATCH, Receipt, Slug
from gateway.policy.decision import Action, DecisionRequest
from gateway.services import Services


class RetractItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    epoch: int = Field(ge=1, le=1_000_000, strict=True)
    spec: Spec = Field(
        default=DEFAULT_SPEC, description="Hashing spec the token was made under: v1 or v2"
    )
    token: str = Field(min_length=64, max_length=64, pattern=TOKEN_PATTERN)
    category: str | None = Field(default=None, max_length=64, description="Only this category")
    reference: FreeText | None = Field(
        default=None, max_length=200, description="Only this report (no identifier in it)"
    )


class RetractRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Slug
    legal_basis: str = Slug
    reason: FreeText = Field(
        min_length=1,
        max_length=500,
        description="Why (kept in the audit log); text holding an identifier is refused",
    )
    items: list[RetractItem] = Field(min_length=1, max_length=MAX_BATCH)


class RetractResponse(BaseModel):
    request_id: str
    retracted: int
    notices: int
    receipt: Receipt


def retract(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    body: RetractRequest,
) -> RetractResponse:
    """Mark the caller's matching reports retracted (never anyone else's)."""
    allowed = decide_or_refuse(
        session,
        services,
        principal,
        request_id,
        request=DecisionRequest(
            action=Action.INDICATORS_RETRACT,
            partner_id=principal.partner_id,
            context={"partner_sector": principal.sector},
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            kinds=tuple(sorted({item.kind for item in body.items})),
            specs=tuple(sorted({(item.kind, item.spec) for item in body.items})),
            batch_size=len(body.items),
        ),
        tag=AuditTag.INDICATOR_RETRACT,
        counts={"items": len(body.items)},
    )
    decision, event = allowed.decision, allowed.event
    retracted = 0
    touched: set[bytes] = set()
    for item in body.items:
        token_hash = services.pepper.token(item.token, epoch=item.epoch)
        statement = update(Indicator).where(
            Indicator.partner_id == principal.partner_id,
            Indicator.token_hash == token_hash,
            Indicator.status != IndicatorStatus.RETRACTED.value,
        )
        if item.category is not None:
            statement = statement.where(Indicator.category == item.category)
        if item.reference is not None:
            statement = statement.where(
                Indicator.reference_hash
                == services.pepper.reference(item.reference, epoch=item.epoch)
            )
        result = session.execute(statement.values(status=IndicatorStatus.RETRACTED.value))
        count = int(getattr(result, "rowcount", 0) or 0)
        if count:
            retracted += count
            touched.add(token_hash)
    notices = notify_retraction(session, services, touched, reason="retracted by the reporter")
    receipt = services.audit.record(
        session,
        replace(
            event,
            counts={"items": len(body.items), "retracted": retracted, "notices": notices},
            detail={"tokens": sorted(h.hex() for h in touched), "reason": body.reason},
        ),
    )
    return RetractResponse(
        request_id=request_id,
        retracted=retracted,
        notices=notices,
        receipt=Receipt(leaf_index=receipt.leaf_index, policy_digest=decision.policy_digest),
    )
