"""Watch-list request and response bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.indicators.schemas import MAX_BATCH, PartnerAsk, Receipt, RowOutcome, RowToken

MAX_ID = 2**63 - 1  # the largest 64-bit key; larger numbers cannot name a watch entry


class WatchItem(RowToken):
    """A token of one of the partner's own customers, to be alerted about."""


class WatchRequest(PartnerAsk):
    items: list[WatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class WatchRowResult(RowOutcome):
    status: Literal["added", "existing", "rejected"]
    watch_id: int | None = None


class WatchResponse(BaseModel):
    request_id: str
    added: int
    existing: int
    rejected: int
    results: list[WatchRowResult]
    receipt: Receipt


class UnwatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    watch_ids: list[Annotated[int, Field(ge=1, le=MAX_ID, strict=True)]] = Field(
        min_length=1, max_length=MAX_BATCH
    )


class UnwatchResponse(BaseModel):
    request_id: str
    removed: int
    receipt: Receipt
