"""HTTP route for outcome feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.auth.deps import require_scopes
from gateway.auth.principal import Principal
from gateway.db import transaction
from gateway.deps import RequestIdDep, ServicesDep
from gateway.feedback.service import FeedbackRequest, FeedbackResponse, submit_feedback

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])
Matcher = Annotated[Principal, Depends(require_scopes("match:query"))]


@router.post("", response_model=FeedbackResponse, summary="Report what acting on a hit showed")
def feedback(
    body: FeedbackRequest, principal: Matcher, services: ServicesDep, request_id: RequestIdDep
) -> FeedbackResponse:
    with transaction(services.session_factory) as session:
        return submit_feedback(session, services, principal, request_id, body)
