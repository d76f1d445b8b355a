"""HTTP routes of tracked requests: send, list, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.auth.deps import CurrentClient, require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.requests.schemas import (
    NewAnswer,
    NewRequest,
    RequestAnswered,
    RequestCreated,
    RequestListing,
)
from gateway.requests.service import answer_request, list_requests, send_request

router = APIRouter(prefix="/v1/requests", tags=["requests"])
Requester = Annotated[Principal, Depends(require_scopes("match:query"))]
Reporter = Annotated[Principal, Depends(require_scopes("indicators:write"))]
RequestPath = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^rq_[0-9a-f]{24}$")]


@router.post(
    "",
    status_code=201,
    response_model=RequestCreated,
    summary="Ask the reporters of a hit to halt, recall, confirm or share, without naming them",
)
def create(
    body: NewRequest, principal: Requester, services: ServicesDep, request_id: RequestIdDep
) -> RequestCreated:
    with transaction(services.session_factory) as session:
        return send_request(session, services, principal, request_id, body)


@router.get("", response_model=RequestListing, summary="Requests this partner sent and received")
def listing(principal: CurrentClient, services: ServicesDep) -> RequestListing:
    with transaction(services.session_factory) as session:
        return list_requests(session, services, principal.partner_id)


@router.post(
    "/{target}/answer", response_model=RequestAnswered, summary="Answer a request as a reporter"
)
def answer(
    target: RequestPath,
    body: NewAnswer,
    principal: Reporter,
    services: ServicesDep,
    request_id: RequestIdDep,
) -> RequestAnswered:
    with transaction(services.session_factory) as session:
        return answer_request(session, services, principal, request_id, target=target, body=body)
