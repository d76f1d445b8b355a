"""HTTP route for outcome feedback."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from gateway.feedback.service import FeedbackRequest, FeedbackResponse, submit_feedback
from gateway.pipeline import Caller, caller

router = APIRouter(prefix="/v1/feedback", tags=["feedback"])
Matcher = Annotated[Caller, Depends(caller("match:query"))]


@router.post("", response_model=FeedbackResponse, summary="Report what acting on a hit showed")
def feedback(body: FeedbackRequest, matcher: Matcher) -> FeedbackResponse:
    return matcher.act(submit_feedback, body)
