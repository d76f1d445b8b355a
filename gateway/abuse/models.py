"""Usage counters, probe fingerprints and enumeration alerts, shared by every worker.

Quotas must hold across gateway workers and replicas, so usage lives in the database, one
row per (scope, subject, purpose, window) updated with a single atomic upsert; process
memory would give each worker its own quota. Windows are fixed and aligned to the Unix
epoch (``window_start`` in seconds), so every worker computes the same row key from its
clock without coordination.

``ProbeFingerprint`` keeps one short fingerprint per distinct token a partner asked in a
window — enough to count distinct tokens exactly, derived from the peppered token and the
window, so it is never an identifier or a token a partner sent. Rows of ended windows are
deleted by the retention purge (:mod:`gateway.abuse.housekeeping`).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK

FINGERPRINT_BYTES = 8


class QuotaScope(StrEnum):
    """Who a counter meters: the partner as a whole, or one of its connector clients."""

    PARTNER = "partner"
    CLIENT = "client"


class AlertStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class QuotaUsage(Base):
    """Items used in one window; the partner row also carries the enumeration statistics."""

    __tablename__ = "abuse_quota_usage"
    __table_args__ = (Index("ix_abuse_quota_usage_partner", "partner_id", "window_start"),)

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    partner_id: Mapped[str] = mapped_column(String(64))
    window_seconds: Mapped[int] = mapped_column(Integer)
    used: Mapped[int] = mapped_column(BigInteger, default=0)
    # Enumeration statistics (partner rows of queried purposes only).
    distinct_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    hits: Mapped[int] = mapped_column(BigInteger, default=0)
    alerted: Mapped[bool] = mapped_column(Boolean, default=False)


class ProbeFingerprint(Base):
    """One distinct token asked by a partner in a window (a short keyed fingerprint)."""

    __tablename__ = "abuse_probe_fingerprints"

    partner_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    fingerprint: Mapped[bytes] = mapped_column(LargeBinary(FINGERPRINT_BYTES), primary_key=True)


class EnumerationAlert(Base):
    """Dictionary-style querying seen in one window, for the partnership's DPO to review."""

    __tablename__ = "abuse_alerts"
    __table_args__ = (Index("ix_abuse_alerts_status_raised", "status", "raised_at"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    window_start: Mapped[int] = mapped_column(BigInteger)
    window_seconds: Mapped[int] = mapped_column(Integer)
    items: Mapped[int] = mapped_column(BigInteger)
    distinct_tokens: Mapped[int] = mapped_column(BigInteger)
    hits: Mapped[int] = mapped_column(BigInteger)
    request_id: Mapped[str] = mapped_column(String(32))
    audit_seq: Mapped[int] = mapped_column(BigInteger)
    raised_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default=AlertStatus.OPEN.value)
