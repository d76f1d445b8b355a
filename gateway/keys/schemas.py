"""Request and response bodies of the key-custody and envelope API.

Binary values travel as base64url text; a sealed envelope is never interpreted here.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from gateway.indicators.schemas import Receipt

MAX_ENVELOPES = 10_000
B64 = r"^[A-Za-z0-9_-]*={0,2}$"


class CustodianRegistration(BaseModel):
    model_config = ConfigDict(extra="forbid")

    public_key: str = Field(
        max_length=64, description="The custodian's Ed25519 public key: ed25519:<base64url>"
    )
    proof: str = Field(
        max_length=100,
        pattern=B64,
        description="Ed25519 signature by that key over the registration statement "
        "(proof of possession), base64url",
    )


class CustodianOut(BaseModel):
    key_id: str
    client_id: str
    status: str
    created_at: datetime
    receipt: Receipt | None = None


class Recipient(BaseModel):
    client_id: str
    partner_id: str
    sector: str
    recipient_key_id: str
    encryption_jwk: dict[str, str]
    kinds: list[str]


class Excluded(BaseModel):
    client_id: str
    partner_id: str
    reason: str


class RecipientList(BaseModel):
    """Who may receive which kinds now; the custodian still checks its own pins."""

    recipients: list[Recipient]
    excluded: list[Excluded]
    policy_digest: str | None = None


class EnvelopeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(max_length=64)
    sealed: str = Field(max_length=24_000, pattern=B64, description="Sealed box, base64url")


class EpochUpload(BaseModel):
    model_config = ConfigDict(extra="forbid")

    manifest: str = Field(
        max_length=4_000_000, pattern=B64, description="Canonical manifest bytes, base64url"
    )
    signature: str = Field(max_length=100, pattern=B64, description="Ed25519, base64url")
    envelopes: list[EnvelopeIn] = Field(default_factory=list, max_length=MAX_ENVELOPES)


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    overlap_days: int | None = Field(
        default=None,
        ge=0,
        le=365,
        description="Days the previous epoch stays valid (default: the gateway's setting); "
        "0 retires it at once",
    )


class EpochOut(BaseModel):
    epoch: int
    state: str
    spec: str
    custodian_key_id: str
    created_at: datetime
    activated_at: datetime | None = None
    retiring_at: datetime | None = None
    overlap_ends_at: datetime | None = None
    retired_at: datetime | None = None
    # For the calling client: whether an envelope waits for it, and for which kinds.
    envelope: bool | None = None
    kinds: list[str] | None = None


class EpochList(BaseModel):
    epochs: list[EpochOut]


class EpochChange(BaseModel):
    """The answer to an upload, activation or retirement."""

    epoch: EpochOut
    envelopes: int = 0
    manifest_sha256: str | None = None
    retired: list[int] = Field(default_factory=list)
    purged: dict[str, int] = Field(default_factory=dict)
    # Absent when the request repeated an upload that was accepted before (nothing changed).
    receipt: Receipt | None = None


class EnvelopeOut(BaseModel):
    """One client's envelope with the signed manifest that vouches for it."""

    epoch: int
    state: str
    client_id: str
    partner_id: str
    recipient_key_id: str
    kinds: list[str]
    sealed: str
    sha256: str
    manifest: str
    manifest_signature: str
    custodian_key_id: str
    receipt: Receipt
