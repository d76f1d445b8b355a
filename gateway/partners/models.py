"""Partners and their connector clients.

Registrations (which purposes under which legal basis) live in the policy data, not here:
the registry holds identity, status and the public keys clients authenticate with. No client
secret exists anywhere: a client proves itself with an ES256 signature (``private_key_jwt``)
that only its own key store can make, and the registry keeps the public half.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from gateway.db import Base


class PartnerStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"
    LEFT = "left"


class ClientStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class Sector(StrEnum):
    """Sectors the gateway's own rules name (roles, the admin scope).

    The registry accepts every sector of the policy data, not only these
    (:mod:`gateway.partners.sectors`).
    """

    BANK = "bank"
    TELECOM = "telecom"
    MARKETPLACE = "marketplace"
    PSP = "psp"
    REGISTRY = "registry"
    POLICE = "police"
    HELPDESK = "helpdesk"
    PARTNERSHIP_DPO = "partnership_dpo"
    # The gateway operator's own organisation (console administrators belong to it).
    OPERATOR = "operator"


class Partner(Base):
    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default=PartnerStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    clients: Mapped[list[PartnerClient]] = relationship(back_populates="partner")


class PartnerClient(Base):
    """A connector installation; authenticates with ``private_key_jwt`` (public JWK here)."""

    __tablename__ = "partner_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"), index=True)
    public_jwk: Mapped[str] = mapped_column(Text)
    scopes: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=ClientStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    key_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # RFC 7638 thumbprint of ``public_jwk``; the ``kid`` assertions must carry.
    key_id: Mapped[str] = mapped_column(String(64), default="")
    # Bumped on every rotation; access tokens carry it, so a rotation voids older tokens.
    key_version: Mapped[int] = mapped_column(Integer, default=1)
    # The client's X25519 public key (OKP JWK) that salt envelopes are sealed to, if given.
    encryption_jwk: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    partner: Mapped[Partner] = relationship(back_populates="clients")
