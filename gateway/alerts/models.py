"""Alerts and each partner's acknowledged cursor.

Each partner's alerts are numbered by ``seq``, allocated under a row lock on the partner's
cursor row that is held until commit: a later number can therefore never become visible
before an earlier one, so ``after=<last seq seen>`` reads every alert exactly in order and
nothing is skipped (a global id sequence would not give that under concurrent commits).

Alerts are raised for watch-list entries (:class:`WatchEntry`, a partner's standing request to
hear about a token) and leave a :class:`Disclosure` behind, as matches do, so a retraction
reaches everyone who was told. Both records live here, below the indicators, the watch list
and matching that write them, so that those areas can raise alerts without a cycle. The
gateway returns an entry id, never the token, so the connector joins alerts back to its own
rows through the ids it kept.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


class AlertType(StrEnum):
    ALERT = "alert"  # a watched token crossed the corroboration threshold
    UPDATE = "update"  # more reports about an already alerted token
    RETRACTION = "retraction"  # something the partner was told was retracted or disputed


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("partner_id", "seq", name="uq_alerts_partner_seq"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    seq: Mapped[int] = mapped_column(BigInteger)
    type: Mapped[str] = mapped_column(String(16))
    watch_id: Mapped[int | None] = mapped_column(
        ForeignKey("watch_entries.id", ondelete="SET NULL")
    )
    # For retraction notices about a match: which request and row told the partner.
    about_request_id: Mapped[str | None] = mapped_column(String(32))
    about_row: Mapped[int | None] = mapped_column(Integer)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(16))
    purpose: Mapped[str] = mapped_column(String(64))
    disclosed: Mapped[str] = mapped_column(Text)  # JSON: exactly what the decision granted
    # JSON list: the obligations (code and texts) that came with the disclosure.
    obligations: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AlertCursor(Base):
    __tablename__ = "alert_cursors"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    acknowledged: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WebhookEndpoint(Base):
    """Where a partner wants alerts pushed, and how far delivery got.

    The signing secret is not stored: it is derived from K_gw, the partner and
    ``secret_version`` (see ``gateway.alerts.webhooks``), so a database dump cannot forge
    deliveries.
    """

    __tablename__ = "webhook_endpoints"

    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), primary_key=True)
    url: Mapped[str] = mapped_column(String(500))
    secret_version: Mapped[int] = mapped_column(Integer, default=1)
    # The K_gw key the secret is derived from, so rotating the pepper keeps webhooks verifiable.
    secret_key_id: Mapped[str | None] = mapped_column(String(16))
    delivered_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class WatchEntry(Base):
    __tablename__ = "watch_entries"
    __table_args__ = (
        UniqueConstraint("partner_id", "token_hash", "purpose", name="uq_watch_entries_entry"),
        Index("ix_watch_entries_token_hash", "token_hash"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(16))
    epoch: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Disclosure(Base):
    """That a partner learned something about a token (by match or alert): for retractions."""

    __tablename__ = "disclosures"
    __table_args__ = (Index("ix_disclosures_token_hash", "token_hash"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    request_id: Mapped[str] = mapped_column(String(32))
    row: Mapped[int | None] = mapped_column(Integer)
    watch_id: Mapped[int | None] = mapped_column(
        ForeignKey("watch_entries.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
