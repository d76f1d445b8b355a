"""Watch-list entries and the record of who was told what about which token.

The gateway returns an entry id, never the token, so the connector joins alerts back to its
own rows through the ids it kept.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


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
