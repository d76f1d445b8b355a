"""HTTP routes of tracked requests: send, list, answer."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path

from gateway.auth.deps import CurrentClient
from gateway.db import transaction
from gateway.deps import ServicesDep
from gateway.pipeline import Caller, caller
from gateway.requests.schemas import (
    NewAnswer,
    NewRequest,
    RequestAnswered,
    RequestCreated,
    RequestListing,
)
from gateway.requests.service import answer_request, list_requests, send_request

router = APIRouter(prefix="/v1/requests", tags=["requests"])
Requester = Annotated[Caller, Depends(caller("match:query"))]
Reporter = Annotated[Caller, Depends(caller("indicators:write"))]
RequestPath = Annotated[str, Path(min_length=3, max_length=32, pattern=r"^rq_[0-9a-f]{24}$")]


@router.post(
    "",
    status_code=201,
    response_model=RequestCreated,
    summary="Ask the reporters of a hit to halt, recall, confirm or share, without naming them",
)
def create(body: NewRequest, requester: Requester) -> RequestCreated:
    return requester.act(send_request, body)


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
    reporter: Reporter,
) -> RequestAnswered:
    with reporter.transaction(body.purpose, body.legal_basis) as ctx:
        return answer_request(ctx, target=target, body=body)
