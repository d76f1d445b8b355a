"""HTTP routes for reading and acknowledging alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from gateway.alerts.disclosures import delivery_counts, delivery_detail
from gateway.alerts.schemas import AckRequest, AckResponse, AlertsPage
from gateway.alerts.service import acknowledge, read_alerts
from gateway.alerts.webhooks import alert_out, register
from gateway.audit_trail.events import AuditEvent, AuditTag
from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Principal, Depends(require_scopes("alerts:read"))]


@router.get(
    "",
    response_model=AlertsPage,
    response_model_exclude_none=True,
    summary="Alerts after a cursor, oldest first (at-least-once)",
)
def list_alerts(
    principal: Reader,
    services: ServicesDep,
    request_id: RequestIdDep,
    after: Annotated[
        int | None,
        # The cursor is recorded in the audit entry, whose counts are JSON-safe integers.
        Query(ge=0, le=2**53 - 1, description="Default: your acknowledged cursor"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertsPage:
    with transaction(services.session_factory) as session:
        alerts, start = read_alerts(session, principal.partner_id, after=after, limit=limit)
        services.audit.record(
            session,
            AuditEvent(
                tag=AuditTag.ALERT_DELIVERY_SEND,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_client=principal.client_id,
                decision="allow",
                policy_digest=services.policy.digest,
                counts=delivery_counts(alerts, start),
                detail=delivery_detail(alerts),  # what each alert told, for subject access
            ),
        )
        page = [alert_out(alert) for alert in alerts]
    return AlertsPage(after=start, next_cursor=page[-1].cursor if page else start, alerts=page)


@router.post("/ack", response_model=AckResponse, summary="Acknowledge alerts up to a cursor")
def ack(
    body: AckRequest, principal: Reader, services: ServicesDep, request_id: RequestIdDep
) -> AckResponse:
    with transaction(services.session_factory) as session:
        acknowledged = acknowledge(session, services, principal.partner_id, body.cursor)
        services.audit.record(
            session,
            AuditEvent(
                tag=AuditTag.ALERT_CURSOR_ACK,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_client=principal.client_id,
                decision="allow",
                policy_digest=services.policy.digest,
                counts={"acknowledged": acknowledged},
            ),
        )
        return AckResponse(acknowledged=acknowledged)


class WebhookRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500, description="https endpoint for alerts")


class WebhookResponse(BaseModel):
    url: str
    secret: str = Field(description="HMAC key for X-PPSGate-Signature; shown only now")
    secret_version: int


@router.put(
    "/webhook",
    response_model=WebhookResponse,
    summary="Push alerts to this URL (a new registration rotates the secret)",
)
def set_webhook(
    body: WebhookRequest, principal: Reader, services: ServicesDep, request_id: RequestIdDep
) -> WebhookResponse:
    with transaction(services.session_factory) as session:
        secret, version = register(session, services, principal.partner_id, body.url)
        services.audit.record(
            session,
            AuditEvent(
                tag=AuditTag.ALERT_WEBHOOK_SET,
                request_id=request_id,
                actor_partner=principal.partner_id,
                actor_client=principal.client_id,
                decision="allow",
                policy_digest=services.policy.digest,
                counts={"secret_version": version},
            ),
        )
    return WebhookResponse(url=body.url, secret=secret, secret_version=version)
