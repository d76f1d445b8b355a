"""HTTP routes for reading and acknowledging alerts."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from gateway.alerts.schemas import AckRequest, AckResponse, AlertOut, AlertsPage
from gateway.alerts.service import acknowledge, read_alerts
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
        int | None, Query(ge=0, description="Default: your acknowledged cursor")
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
                counts={
                    "alerts": len(alerts),
                    "from": start,
                    "to": alerts[-1].seq if alerts else start,
                },
            ),
        )
        page = [
            AlertOut(
                cursor=alert.seq,
                type=alert.type,
                watch_id=alert.watch_id,
                about_request_id=alert.about_request_id,
                about_row=alert.about_row,
                kind=alert.kind or None,
                purpose=alert.purpose or None,
                disclosed=json.loads(alert.disclosed),
                created_at=alert.created_at,
            )
            for alert in alerts
        ]
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
