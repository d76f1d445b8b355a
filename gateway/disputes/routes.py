"""HTTP routes for disputes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.disputes.service import (
    DisputeFiled,
    DisputeOut,
    DisputeRequest,
    OpenDispute,
    ResolveRequest,
    file_dispute,
    open_disputes_for_reporter,
    resolve,
)

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])
Filer = Annotated[Principal, Depends(require_scopes("disputes:write"))]
Reporter = Annotated[Principal, Depends(require_scopes("indicators:write"))]


@router.post(
    "",
    response_model=DisputeFiled,
    summary="Dispute a token on behalf of a data subject (needs standing: a watched token)",
)
def file(
    body: DisputeRequest, principal: Filer, services: ServicesDep, request_id: RequestIdDep
) -> DisputeFiled:
    with transaction(services.session_factory) as session:
        return file_dispute(session, services, principal, request_id, body)


@router.get("", response_model=list[OpenDispute], summary="Open disputes about your reports")
def list_open(principal: Reporter, services: ServicesDep) -> list[OpenDispute]:
    with transaction(services.session_factory) as session:
        return open_disputes_for_reporter(session, principal.partner_id)


@router.post(
    "/{dispute_id}/resolve",
    response_model=DisputeOut,
    response_model_exclude_none=True,
    summary="Confirm or retract your disputed reports",
)
def resolve_dispute(
    dispute_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: ResolveRequest,
    principal: Reporter,
    services: ServicesDep,
    request_id: RequestIdDep,
) -> DisputeOut:
    with transaction(services.session_factory) as session:
        return resolve(session, services, principal, request_id, dispute_id=dispute_id, body=body)
