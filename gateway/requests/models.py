"""A request about a token, relayed to the partners who reported it, and their answers.

The requester is never shown to the recipients nor the recipients to the requester: the
gateway routes by indicator ownership and each side sees only the opaque request id.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


class PartnerRequest(Base):
    __tablename__ = "partner_requests"
    __table_args__ = (Index("ix_partner_requests_token", "token_hash"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    requester_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    kind: Mapped[str] = mapped_column(String(16))
    epoch: Mapped[int] = mapped_column(Integer)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    request_type: Mapped[str] = mapped_column(String(32))
    purpose: Mapped[str] = mapped_column(String(64))
    legal_basis: Mapped[str] = mapped_column(String(64))
    message: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    deadline: Mapped[datetime] = mapped_column(UTCDateTime())


class RequestRecipient(Base):
    __tablename__ = "partner_request_recipients"
    __table_args__ = (
        UniqueConstraint("request_id", "partner_id", name="uq_request_recipient"),
        Index("ix_request_recipients_partner", "partner_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(ForeignKey("partner_requests.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    answer: Mapped[str | None] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
