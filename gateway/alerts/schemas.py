"""Alert bodies: what the watcher may know, and the ids to join back to its own rows."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from gateway.policy.obligations import ObligationOut


class AlertOut(BaseModel):
    cursor: int = Field(description="Acknowledge up to this value with POST /v1/alerts/ack")
    type: str = Field(description="alert, update or retraction")
    watch_id: int | None = Field(default=None, description="Your watch entry, if any")
    about_request_id: str | None = Field(
        default=None, description="For a retraction of a match answer: that request's id"
    )
    about_row: int | None = None
    kind: str | None = None
    purpose: str | None = None
    disclosed: dict[str, Any]
    obligations: list[ObligationOut] = Field(
        default_factory=list, description="What the partner must honour for this alert"
    )
    created_at: datetime


class AlertsPage(BaseModel):
    after: int
    next_cursor: int
    alerts: list[AlertOut]


class AckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cursor: int = Field(ge=0, le=2**53 - 1, strict=True)


class AckResponse(BaseModel):
    acknowledged: int
