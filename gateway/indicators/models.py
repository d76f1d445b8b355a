"""Indicator storage, shaped for batch lookups at scale.

Tokens are stored peppered (``HMAC-SHA256(K_gw, token)``) as 32 raw bytes: half the size of
hex, and a database dump plus a leaked partner key still cannot test guesses offline. A report
is identified by (partner, token, category, reference); the reference is peppered as well
because partners' case numbers can be personal data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


class IndicatorStatus(StrEnum):
    ACTIVE = "active"
    DISPUTED = "disputed"
    RETRACTED = "retracted"


class Role(StrEnum):
    """The reported person's role (``policies/data/taxonomy.json`` has the texts)."""

    SUSPECT = "suspect"
    MULE = "mule"  # a money mule whose type the reporter does not state
    MULE_WITTING = "mule_witting"
    MULE_UNWITTING = "mule_unwitting"
    MULE_RECRUITED = "mule_recruited"
    TAKEOVER_VICTIM = "takeover_victim"  # the account was taken over: its holder is a victim
    VICTIM = "victim"  # a protected identifier (e.g. a bank's own service number)


class Indicator(Base):
    __tablename__ = "indicators"
    __table_args__ = (
        UniqueConstraint(
            "partner_id", "token_hash", "category", "reference_hash", name="uq_indicators_report"
        ),
        Index("ix_indicators_token_epoch", "token_hash", "epoch"),
        Index("ix_indicators_expires_at", "expires_at"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(16))
    epoch: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    category: Mapped[str] = mapped_column(String(48))
    role: Mapped[str] = mapped_column(String(16))
    reference_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(64))
    confidence: Mapped[int | None] = mapped_column(SmallInteger)
    # Distinct victims: the reporter's connector keys its victim or case reference with its
    # own victim key (never linkable across partners); the gateway peppers it again.
    victim_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Evidence level from policies/data/evidence.json, None when the reporter stated none.
    evidence: Mapped[str | None] = mapped_column(String(32))
    # Why the reporter kept the report past its default retention (a policy reason code).
    retention_reason: Mapped[str | None] = mapped_column(String(48))
    status: Mapped[str] = mapped_column(String(16), default=IndicatorStatus.ACTIVE.value)
    observed_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), server_default=func.now())
