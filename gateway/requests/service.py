"""Sending a request to the reporters of a token, answering it, and listing both sides.

The gateway finds the recipients itself, from who holds an active report of the peppered
token (other than the requester), so the requester never learns who they are; recipients see
the request and which of their own reports it concerns, never who sent it. Statuses follow
from the deadline: a request is ``open`` until every recipient answered (``answered``) or
the deadline passed (``expired``); an answer after the deadline is refused. Each send and
answer is decided by the policy (``requests:send`` with the request type in the context,
``requests:answer``) and audited with the peppered token in its detail, so it appears in
the data subject's access request.
"""

from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from gateway.audit_trail.events import AuditTag
from gateway.auth.principal import Principal
from gateway.freetext import refuse_identifiers
from gateway.guard import decide_or_refuse
from gateway.indicators.models import Indicator, IndicatorStatus
from gateway.indicators.schemas import Receipt
from gateway.policy.decision import Action, DecisionRequest
from gateway.requests import errors
from gateway.requests.models import PartnerRequest, RequestRecipient
from gateway.requests.schemas import (
    Answer,
    NewAnswer,
    NewRequest,
    ReceivedRequest,
    RequestAnswered,
    RequestCreated,
    RequestListing,
    RequestType,
    SentAnswer,
    SentRequest,
    Status,
)
from gateway.services import Services

#: How long the reporters have to answer, by request type.
DEADLINES: dict[RequestType, timedelta] = {
    RequestType.HALT_PAYMENT: timedelta(hours=2),
    RequestType.RECALL_FUNDS: timedelta(hours=24),
    RequestType.CONFIRM: timedelta(hours=24),
    RequestType.SHARE_DETAILS: timedelta(hours=72),
}


def answer_status(recipient: RequestRecipient, deadline: datetime, now: datetime) -> Status:
    if recipient.answer is not None:
        return "answered"
    return "expired" if now > deadline else "open"


def request_status(recipients: list[RequestRecipient], deadline: datetime, now: datetime) -> Status:
    if recipients and all(r.answer is not None for r in recipients):
        return "answered"
    return "expired" if now > deadline else "open"


def _check_message(message: str | None) -> None:
    # The one free-text guard of the gateway (gateway.freetext).
    if message:
        refuse_identifiers(message, field="message")


def send_request(
    session: Session, services: Services, principal: Principal, request_id: str, body: NewRequest
) -> RequestCreated:
    _check_message(body.message)
    allowed = decide_or_refuse(
        session,
        services,
        principal,
        request_id,
        request=DecisionRequest(
            action=Action.REQUESTS_SEND,
            partner_id=principal.partner_id,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            kinds=(body.kind,),
            specs=((body.kind, body.spec),),
            context={"request_type": body.type.value, "partner_sector": principal.sector},
        ),
        tag=AuditTag.REQUEST_PARTNER_SEND,
        counts={"items": 1},
    )
    token_hash = services.pepper.token(body.token, epoch=body.epoch)
    reporters = _reporters(session, token_hash, body.epoch, exclude=principal.partner_id)
    if not reporters:
        services.audit.record(
            session,
            replace(
                allowed.event,
                counts={"items": 1, "recipients": 0},
                detail={"tokens": [token_hash.hex()], "outcome": "no-reporter"},
            ),
        )
        raise errors.no_reporter()
    now = services.clock.now()
    record = PartnerRequest(
        id="rq_" + secrets.token_hex(12),
        requester_id=principal.partner_id,
        kind=body.kind.value,
        epoch=body.epoch,
        token_hash=token_hash,
        request_type=body.type.value,
        purpose=body.purpose,
        legal_basis=body.legal_basis,
        message=body.message,
        created_at=now,
        deadline=now + DEADLINES[body.type],
    )
    session.add(record)
    session.add_all(RequestRecipient(request_id=record.id, partner_id=p) for p in reporters)
    session.flush()
    receipt = services.audit.record(
        session,
        replace(
            allowed.event,
            counts={"items": 1, "recipients": len(reporters)},
            detail={"tokens": [token_hash.hex()], "request": record.id, "type": body.type.value},
        ),
    )
    return RequestCreated(
        request_id=record.id,
        status="open",
        deadline=record.deadline,
        recipients=len(reporters),
        receipt=Receipt(
            leaf_index=receipt.leaf_index, policy_digest=allowed.decision.policy_digest
        ),
    )


def _reporters(session: Session, token_hash: bytes, epoch: int, *, exclude: str) -> list[str]:
    rows = session.scalars(
        select(Indicator.partner_id)
        .where(
            Indicator.token_hash == token_hash,
            Indicator.epoch == epoch,
            Indicator.status == IndicatorStatus.ACTIVE.value,
            Indicator.partner_id != exclude,
        )
        .distinct()
    )
    return sorted(rows)


def answer_request(
    session: Session,
    services: Services,
    principal: Principal,
    request_id: str,
    *,
    target: str,
    body: NewAnswer,
) -> RequestAnswered:
    _check_message(body.message)
    found = session.execute(
        select(PartnerRequest, RequestRecipient)
        .join(RequestRecipient, RequestRecipient.request_id == PartnerRequest.id)
        .where(PartnerRequest.id == target, RequestRecipient.partner_id == principal.partner_id)
        .with_for_update(of=RequestRecipient)
    ).one_or_none()
    if found is None:
        raise errors.unknown_request()
    record, recipient = found
    allowed = decide_or_refuse(
        session,
        services,
        principal,
        request_id,
        request=DecisionRequest(
            action=Action.REQUESTS_ANSWER,
            partner_id=principal.partner_id,
            purpose=body.purpose,
            legal_basis=body.legal_basis,
            kinds=(record.kind,),
            context={"partner_sector": principal.sector},
        ),
        tag=AuditTag.REQUEST_PARTNER_ANSWER,
        counts={"items": 1},
    )
    now = services.clock.now()
    refusal = _late_or_repeated(recipient, record.deadline, now)
    if refusal is not None:
        services.audit.record(
            session,
            replace(
                allowed.event,
                detail={
                    "tokens": [record.token_hash.hex()],
                    "request": record.id,
                    "outcome": refusal,
                },
            ),
        )
        raise errors.already_answered() if refusal == "already-answered" else errors.expired()
    recipient.answer, recipient.message, recipient.answered_at = (
        body.answer.value,
        body.message,
        now,
    )
    session.flush()
    receipt = services.audit.record(
        session,
        replace(
            allowed.event,
            detail={
                "tokens": [record.token_hash.hex()],
                "request": record.id,
                "answer": body.answer.value,
            },
        ),
    )
    recipients = list(
        session.scalars(select(RequestRecipient).where(RequestRecipient.request_id == record.id))
    )
    return RequestAnswered(
        request_id=record.id,
        status=request_status(recipients, record.deadline, now),
        receipt=Receipt(
            leaf_index=receipt.leaf_index, policy_digest=allowed.decision.policy_digest
        ),
    )


def _late_or_repeated(recipient: RequestRecipient, deadline: datetime, now: datetime) -> str | None:
    if recipient.answer is not None:
        return "already-answered"
    if now > deadline:
        return "expired"
    return None


def list_requests(session: Session, services: Services, partner_id: str) -> RequestListing:
    now = services.clock.now()
    return RequestListing(
        sent=_sent(session, partner_id, now), received=_received(session, partner_id, now)
    )


def _sent(session: Session, partner_id: str, now: datetime) -> list[SentRequest]:
    records = session.scalars(
        select(PartnerRequest)
        .where(PartnerRequest.requester_id == partner_id)
        .order_by(PartnerRequest.created_at, PartnerRequest.id)
    ).all()
    listing = []
    for record in records:
        recipients = list(
            session.scalars(
                select(RequestRecipient)
                .where(RequestRecipient.request_id == record.id)
                .order_by(RequestRecipient.id)
            )
        )
        listing.append(
            SentRequest(
                request_id=record.id,
                type=RequestType(record.request_type),
                kind=record.kind,
                status=request_status(recipients, record.deadline, now),
                created_at=record.created_at,
                deadline=record.deadline,
                answers=[
                    SentAnswer(
                        status=answer_status(r, record.deadline, now),
                        answer=Answer(r.answer) if r.answer else None,
                        message=r.message,
                        answered_at=r.answered_at,
                    )
                    for r in recipients
                ],
            )
        )
    return listing


def _received(session: Session, partner_id: str, now: datetime) -> list[ReceivedRequest]:
    rows = session.execute(
        select(PartnerRequest, RequestRecipient)
        .join(RequestRecipient, RequestRecipient.request_id == PartnerRequest.id)
        .where(RequestRecipient.partner_id == partner_id)
        .order_by(PartnerRequest.created_at, PartnerRequest.id)
    ).all()
    listing = []
    for record, recipient in rows:
        own = session.execute(
            select(Indicator.category, Indicator.observed_at).where(
                Indicator.partner_id == partner_id,
                Indicator.token_hash == record.token_hash,
                Indicator.epoch == record.epoch,
            )
        ).all()
        listing.append(
            ReceivedRequest(
                request_id=record.id,
                type=RequestType(record.request_type),
                kind=record.kind,
                epoch=record.epoch,
                status=answer_status(recipient, record.deadline, now),
                created_at=record.created_at,
                deadline=record.deadline,
                message=record.message,
                your_reports=[
                    {"category": category, "observed_at": observed.isoformat()}
                    for category, observed in own
                ],
                answer=Answer(recipient.answer) if recipient.answer else None,
            )
        )
    return listing


def open_requests_by_partner(session: Session, now: datetime) -> dict[str, int]:
    """Open requests addressed to each partner (for the privacy officers' overview)."""
    rows = session.execute(
        select(RequestRecipient.partner_id, PartnerRequest.deadline)
        .join(PartnerRequest, PartnerRequest.id == RequestRecipient.request_id)
        .where(RequestRecipient.answer.is_(None))
    ).all()
    counts: dict[str, int] = {}
    for partner, deadline in rows:
        if now <= deadline:
            counts[partner] = counts.get(partner, 0) + 1
    return counts
