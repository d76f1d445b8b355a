"""HTTP routes for disputes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.db import transaction
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
from gateway.pipeline import Caller, caller

router = APIRouter(prefix="/v1/disputes", tags=["disputes"])
Filer = Annotated[Caller, Depends(caller("disputes:write"))]
Reporter = Annotated[Caller, Depends(caller("indicators:write"))]


@router.post(
    "",
    response_model=DisputeFiled,
    summary="Dispute a token on behalf of a data subject (needs standing: a watched token)",
)
def file(body: DisputeRequest, filer: Filer) -> DisputeFiled:
    return filer.act(file_dispute, body)


@router.get("", response_model=list[OpenDispute], summary="Open disputes about your reports")
def list_open(reporter: Reporter) -> list[OpenDispute]:
    with transaction(reporter.services.session_factory) as session:
        return open_disputes_for_reporter(session, reporter.principal.partner_id)


@router.post(
    "/{dispute_id}/resolve",
    response_model=DisputeOut,
    response_model_exclude_none=True,
    summary="Confirm or retract your disputed reports",
)
def resolve_dispute(
    dispute_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    body: ResolveRequest,
    reporter: Reporter,
) -> DisputeOut:
    with reporter.transaction() as ctx:
        return resolve(ctx, dispute_id=dispute_id, body=body)
