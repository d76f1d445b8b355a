"""Request and response bodies for indicator submission.

Item fields are checked per row by the service rather than by the schema, so that one bad
row is reported with its field and reason while the rest of the batch is handled; the
schema still bounds every size so the fuzzer and the body parser have limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from gateway.clock import IsoDateTime
from gateway.identifiers import DEFAULT_SPEC, TOKEN_PATTERN, Kind, Spec

MAX_BATCH = 10_000
Slug = Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_.:-]*$")
EPOCH_TEXT = "Salt epoch the token was made under"


class PartnerAsk(BaseModel):
    """A partner's request under a purpose and the legal basis it invokes: every action the
    policy decides carries both (the request pipeline reads them)."""

    model_config = ConfigDict(extra="forbid")

    purpose: str = Slug
    legal_basis: str = Slug


class OneToken(PartnerAsk):
    """A request about one token, checked by the schema: kind, salt epoch, spec, token."""

    kind: Kind
    epoch: int = Field(ge=1, le=1_000_000, strict=True, description=EPOCH_TEXT)
    spec: Spec = Field(
        default=DEFAULT_SPEC, description="Hashing spec the token was made under: v1 or v2"
    )
    token: str = Field(min_length=64, max_length=64, pattern=TOKEN_PATTERN)


class RowToken(BaseModel):
    """A batch row's token, checked per row by the service (so one bad row is named with its
    field while the rest of the batch goes on); the schema only bounds the sizes."""

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=16, description="iban, phone, email or domain")
    epoch: int = Field(ge=1, le=1_000_000, description=EPOCH_TEXT)
    spec: Spec = Field(
        default=DEFAULT_SPEC, description="Hashing spec the token was made under: v1 or v2"
    )
    token: str = Field(max_length=128, description="64 lowercase hex characters")


class IndicatorIn(RowToken):
    category: str = Field(max_length=64, description="Fraud category from the taxonomy")
    role: str = Field(
        default="suspect",
        max_length=16,
        description="suspect, mule, mule_witting, mule_unwitting, mule_recruited, "
        "takeover_victim or victim (a protected identifier)",
    )
    observed_at: IsoDateTime = Field(description="When the partner observed it (with time zone)")
    expires_at: IsoDateTime | None = Field(
        default=None,
        description="Partner's own expiry: earlier than the default shortens the report's "
        "retention; later needs retention_reason and is capped at the category's maximum",
    )
    confidence: int | None = Field(default=None, ge=0, le=100)
    reference: str | None = Field(
        default=None, max_length=200, description="Partner's case reference (one per victim)"
    )
    victim: str | None = Field(
        default=None,
        max_length=64,
        description="Opaque victim reference: 64 lowercase hex characters that the reporter's "
        "connector keyed with its own victim key (never the victim's identity); counts "
        "distinct victims per identifier",
    )
    evidence: str | None = Field(
        default=None, max_length=32, description="Evidence level from the policy's vocabulary"
    )
    retention_reason: str | None = Field(
        default=None,
        max_length=48,
        description="Reason code for keeping the report past its default retention",
    )


class SubmitRequest(PartnerAsk):
    items: list[IndicatorIn] = Field(min_length=1, max_length=MAX_BATCH)


class RowOutcome(BaseModel):
    """What became of one row of a batch: its index, and the field and reason of a refusal."""

    row: int
    field: str | None = None
    reason: str | None = None


class RowResult(RowOutcome):
    status: Literal["accepted", "duplicate", "rejected"]
    expires_at: datetime | None = Field(
        default=None, description="When an accepted report expires and is purged"
    )


class Receipt(BaseModel):
    """Where this request sits in the audit log; proofs come from /v1/audit."""

    leaf_index: int
    policy_digest: str | None = None


class SubmitResponse(BaseModel):
    request_id: str
    accepted: int
    duplicates: int
    rejected: int
    results: list[RowResult]
    receipt: Receipt


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
    victims: int | None = Field(
        default=None,
        description="Distinct victims (victim references are per reporter: one victim "
        "reported by two partners counts twice)",
    )
    categories: list[str] | None = None
    evidence: list[str] | None = Field(
        default=None, description="Evidence levels the reports state, lowest first"
    )
    roles: list[str] | None = None
    sectors: list[str] | None = None
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    expires_at: datetime | None = Field(
        default=None, description="When the last report expires and is purged"
    )
    reporting_partners: list[str] | None = None
    obligations: list[str] | None = Field(
        default=None,
        description="Obligations for this item only (e.g. disputed-do-not-act); the answer's "
        "obligations list their texts",
    )
