"""HTTP route for matches (real-time: one item; batch: up to 10,000)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response

from gateway.matching.schemas import MatchRequest, MatchResponse
from gateway.matching.service import match_batch
from gateway.pipeline import Caller, caller

router = APIRouter(prefix="/v1", tags=["matching"])
Matcher = Annotated[Caller, Depends(caller("match:query"))]


# The answer is serialised here (a Response), so response_model only documents it.
@router.post(
    "/match",
    response_model=MatchResponse,
    summary="Ask whether tokens were reported, and what the policy lets you learn",
)
def match(body: MatchRequest, matcher: Matcher) -> Response:
    answer = matcher.act(match_batch, body)
    # Serialised once here: returned as a model, FastAPI would validate all 10,000 results
    # again against the response model before dumping them.
    return Response(answer.model_dump_json(exclude_none=True), media_type="application/json")
