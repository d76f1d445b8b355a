"""Response bodies of the audit API (hashes are standard base64, as in RFC 6962 §4)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class SignedTreeHead(BaseModel):
    origin: str
    tree_size: int
    root_hash: str = Field(description="base64 SHA-256 root")
    checkpoint: str = Field(description="C2SP signed note, with the cosignatures held")
    cosigners: list[str]
    signed_at: datetime


class ConsistencyProof(BaseModel):
    first: int
    second: int
    consistency: list[str]


class InclusionProof(BaseModel):
    leaf_index: int
    tree_size: int
    leaf_hash: str
    audit_path: list[str]


class LogEntry(BaseModel):
    leaf_index: int
    entry: str | None = Field(
        description="canonical JSON; SHA-256(0x00 || UTF-8 bytes) is the leaf; null for an "
        "entry outside the reader's scope (its leaf hash stands for it)"
    )
    leaf_hash: str | None = Field(description="the log's stored leaf hash (recompute it)")


class LeafHash(BaseModel):
    leaf_index: int
    leaf_hash: str = Field(description="base64 SHA-256(0x00 || entry): reveals nothing about it")


class LeafHashes(BaseModel):
    leaves: list[LeafHash]


class LogEntries(BaseModel):
    entries: list[LogEntry]


class CheckpointItem(BaseModel):
    tree_size: int
    checkpoint: str
    signed_at: datetime


class CheckpointList(BaseModel):
    checkpoints: list[CheckpointItem]


class PublicKey(BaseModel):
    origin: str
    verifier_key: str = Field(description="C2SP vkey: <name>+<key id>+base64(0x01 || key)")
    witness_keys: list[str]


class CosignaturesAccepted(BaseModel):
    tree_size: int
    accepted: list[str]


class SearchResult(BaseModel):
    entries: list[dict[str, Any]]
    next_before: int | None = Field(description="pass as `before` for the next (older) page")


class SubjectDisclosure(BaseModel):
    leaf_index: int
    time: datetime
    tag: str
    partner: str | None
    client: str | None
    purpose: str | None
    legal_basis: str | None
    decision: str | None
    disclosed: Any = Field(description="what was disclosed about the token; null if nothing")


class SubjectReport(BaseModel):
    """A live report held about the token, with the day it expires and is purged."""

    reporter: str = Field(description="the reporting partner (within the reader's scope)")
    sector: str
    kind: str
    category: str
    role: str
    evidence: str | None
    status: str
    observed_at: datetime
    expires_at: datetime
    retention_reason: str | None = Field(
        description="why the reporter kept it past its default retention, if it did"
    )


class SubjectAccessReport(BaseModel):
    records: list[SubjectDisclosure]
    reports: list[SubjectReport] = Field(
        default_factory=list, description="the reports held about the token now"
    )
    note: str
