"""A dispute about a token, open until every reporter confirmed or retracted."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK, UTCDateTime


class DisputeStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class Dispute(Base):
    __tablename__ = "disputes"

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    filed_by: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    grounds: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default=DisputeStatus.OPEN.value)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
