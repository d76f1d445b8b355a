"""Watch-list request and response bodies."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import DEFAULT_SPEC, Spec
from gateway.indicators.schemas import MAX_BATCH, Receipt, Slug

MAX_ID = 2**63 - 1  # the largest 64-bit key; larger numbers cannot name a watch entry


class WatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=16, description="iban, phone, email or domain")
    epoch: int = Field(ge=1, le=1_000_000)
    spec: Spec = Field(
        default=DEFAULT_SPEC, description="Hashing spec the token was made under: v1 or v2"
    )
    token: str = Field(max_length=128, description="64 lowercase hex characters")


class WatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Slug
    legal_basis: str = Slug
    items: list[WatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class WatchRowResult(BaseModel):
    row: int
    status: Literal["added", "existing", "rejected"]
    watch_id: int | None = None
    field: str | None = None
    reason: str | None = None


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
