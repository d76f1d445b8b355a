"""Match request and response bodies; a response item holds only what the policy granted."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import DEFAULT_SPEC, TOKEN_PATTERN, Kind, Spec
from gateway.indicators.schemas import MAX_BATCH, Receipt, Slug


class MatchItem(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(
        description="iban, phone, email, domain, url, crypto_address or social_account"
    )
    epoch: int = Field(ge=1, le=1_000_000, strict=True)
    spec: Spec = Field(
        default=DEFAULT_SPEC, description="Hashing spec the token was made under: v1 or v2"
    )
    token: str = Field(min_length=64, max_length=64, pattern=TOKEN_PATTERN)


class MatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    purpose: str = Slug
    legal_basis: str = Slug
    include_own: bool = Field(default=False, description="Count the caller's own reports too")
    items: list[MatchItem] = Field(min_length=1, max_length=MAX_BATCH)


class MatchResult(BaseModel):
    """Fields beyond ``row`` and ``hit`` appear only when the decision grants them."""

    row: int
    hit: bool
    suppressed: bool | None = Field(
        default=None, description="On the suppression list: never an indicator, never a hit"
    )
    disputed: bool | None = None
    reports: int | None = None
    reporters: int | None = None
    categories: list[str] | None = None
    roles: list[str] | None = None
    sectors: list[str] | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    reporting_partners: list[str] | None = None


_DISCLOSABLE = sorted(name for name in MatchResult.model_fields if name != "row")


def disclosed_fields(result: MatchResult) -> list[str]:
    """The names of what an item disclosed, sorted (for the audit detail)."""
    return [name for name in _DISCLOSABLE if getattr(result, name) is not None]


class MatchResponse(BaseModel):
    request_id: str
    hits: int
    results: list[MatchResult]
    disclosure: list[str]
    receipt: Receipt
