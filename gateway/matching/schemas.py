"""Match request and response bodies; a response item holds only what the policy granted."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from gateway.identifiers import DEFAULT_SPEC, TOKEN_PATTERN, Kind, Spec
from gateway.indicators.schemas import MAX_BATCH, MatchResult, PartnerAsk, Receipt
from gateway.policy.obligations import ObligationOut


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


class MatchRequest(PartnerAsk):
    include_own: bool = Field(default=False, description="Count the caller's own reports too")
    items: list[MatchItem] = Field(min_length=1, max_length=MAX_BATCH)


_DISCLOSABLE = sorted(
    name for name in MatchResult.model_fields if name not in {"row", "obligations"}
)


def disclosed_fields(result: MatchResult) -> list[str]:
    """The names of what an item disclosed, sorted (for the audit detail)."""
    return [name for name in _DISCLOSABLE if getattr(result, name) is not None]


class MatchResponse(BaseModel):
    request_id: str
    hits: int
    results: list[MatchResult]
    disclosure: list[str]
    obligations: list[ObligationOut] = Field(
        default_factory=list,
        description="What the asking partner must honour for what it learnt, with texts",
    )
    receipt: Receipt
