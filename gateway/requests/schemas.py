"""Request and answer bodies of /v1/requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import Kind
from gateway.indicators.schemas import OneToken, Receipt, Slug

Status = Literal["open", "answered", "expired"]
MESSAGE_MAX = 500


class RequestType(StrEnum):
    """What the requester asks the reporters; the purpose lists the types it covers."""

    HALT_PAYMENT = "halt_payment"
    RECALL_FUNDS = "recall_funds"
    CONFIRM = "confirm"
    SHARE_DETAILS = "share_details"


class Answer(StrEnum):
    DONE = "done"
    NOT_POSSIBLE = "not_possible"
    DECLINED = "declined"


class NewRequest(OneToken):
    type: RequestType
    message: str | None = Field(
        default=None,
        max_length=MESSAGE_MAX,
        description="Free text for the reporters; refused if it holds an identifier",
    )


class NewAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Slug
    legal_basis: str = Slug
    answer: Answer
    message: str | None = Field(default=None, max_length=MESSAGE_MAX)


class SentAnswer(BaseModel):
    """One reporter's answer as the requester sees it: no name, no sector."""

    status: Status
    answer: Answer | None = None
    message: str | None = None
    answered_at: datetime | None = None


class SentRequest(BaseModel):
    request_id: str
    type: RequestType
    kind: Kind
    status: Status
    created_at: datetime
    deadline: datetime
    answers: list[SentAnswer]


class ReceivedRequest(BaseModel):
    """A request as a reporter sees it: which of its own reports it is about, not who asks."""

    request_id: str
    type: RequestType
    kind: Kind
    epoch: int
    status: Status
    created_at: datetime
    deadline: datetime
    message: str | None = None
    your_reports: list[dict[str, str]] = Field(
        description="category and observed date of your own reports of this token"
    )
    answer: Answer | None = None


class RequestCreated(BaseModel):
    request_id: str
    status: Status
    deadline: datetime
    recipients: int
    receipt: Receipt


class RequestAnswered(BaseModel):
    request_id: str
    status: Status
    receipt: Receipt


class RequestListing(BaseModel):
    sent: list[SentRequest]
    received: list[ReceivedRequest]
