"""One partner's verdict on a token it acted on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


class Feedback(Base):
    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("partner_id", "token_hash", name="uq_feedback_verdict"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
