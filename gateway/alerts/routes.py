"""HTTP routes for reading and acknowledging alerts."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from gateway.alerts.disclosures import delivery_counts, delivery_detail
from gateway.alerts.schemas import AckRequest, AckResponse, AlertsPage
from gateway.alerts.service import acknowledge, read_alerts
from gateway.alerts.webhooks import alert_out, register
from gateway.audit_trail.events import AuditTag
from gateway.pipeline import Caller, caller

router = APIRouter(prefix="/v1/alerts", tags=["alerts"])
Reader = Annotated[Caller, Depends(caller("alerts:read"))]


@router.get(
    "",
    response_model=AlertsPage,
    response_model_exclude_none=True,
    summary="Alerts after a cursor, oldest first (at-least-once)",
)
def list_alerts(
    reader: Reader,
    after: Annotated[
        int | None,
        # The cursor is recorded in the audit entry, whose counts are JSON-safe integers.
        Query(ge=0, le=2**53 - 1, description="Default: your acknowledged cursor"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertsPage:
    with reader.transaction() as ctx:
        alerts, start = read_alerts(ctx.session, ctx.principal.partner_id, after=after, limit=limit)
        event = ctx.event(
            AuditTag.ALERT_DELIVERY_SEND,
            decision="allow",
            counts=delivery_counts(alerts, start),
            detail=delivery_detail(alerts),  # what each alert told, for subject access
        )
        ctx.record(event)
        page = [alert_out(alert) for alert in alerts]
    return AlertsPage(after=start, next_cursor=page[-1].cursor if page else start, alerts=page)


@router.post("/ack", response_model=AckResponse, summary="Acknowledge alerts up to a cursor")
def ack(body: AckRequest, reader: Reader) -> AckResponse:
    with reader.transaction() as ctx:
        partner_id = ctx.principal.partner_id
        acknowledged = acknowledge(ctx.session, ctx.services, partner_id, body.cursor)
        counts = {"acknowledged": acknowledged}
        ctx.record(ctx.event(AuditTag.ALERT_CURSOR_ACK, decision="allow", counts=counts))
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
def set_webhook(body: WebhookRequest, reader: Reader) -> WebhookResponse:
    with reader.transaction() as ctx:
        partner_id = ctx.principal.partner_id
        secret, version = register(ctx.session, ctx.services, partner_id, body.url)
        counts = {"secret_version": version}
        ctx.record(ctx.event(AuditTag.ALERT_WEBHOOK_SET, decision="allow", counts=counts))
    return WebhookResponse(url=body.url, secret=secret, secret_version=version)
