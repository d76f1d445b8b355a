"""HTTP route for matches (real-time: one item; batch: up to 10,000)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.matching.schemas import MatchRequest, MatchResponse
from gateway.matching.service import match_batch

router = APIRouter(prefix="/v1", tags=["matching"])
Matcher = Annotated[Principal, Depends(require_scopes("match:query"))]


@router.post(
    "/match",
    response_model=MatchResponse,
    response_model_exclude_none=True,
    summary="Ask whether tokens were reported, and what the policy lets you learn",
)
def match(
    body: MatchRequest, principal: Matcher, services: ServicesDep, request_id: RequestIdDep
) -> Response:
    with transaction(services.session_factory) as session:
        answer = match_batch(session, services, principal, request_id, body)
    # Serialised once here: returned as a model, FastAPI would validate all 10,000 results
    # again against the response model before dumping them.
    return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")
