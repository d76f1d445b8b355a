"""The salt epochs as the gateway knows them (table ``key_epochs``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base


class EpochState(StrEnum):
    """An epoch's life: uploaded, in use, in its overlap window, gone."""

    PENDING = "pending"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"


class KeyEpoch(Base):
    """One salt epoch as the gateway knows it: a number, a state and its dates."""

    __tablename__ = "key_epochs"

    epoch: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    state: Mapped[str] = mapped_column(String(16), default=EpochState.PENDING.value)
    spec: Mapped[str] = mapped_column(String(8), default="v1")
    custodian_key_id: Mapped[str] = mapped_column(ForeignKey("custodian_keys.key_id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    activated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set when the next epoch is activated; both are valid until ``overlap_ends_at``.
    retiring_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    overlap_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Fingerprint of the K_gw key this epoch's tokens are peppered with (gateway.pepper).
    pepper_key_id: Mapped[str | None] = mapped_column(String(16))
