"""Custodian keys, salt epochs, the custodian's signed manifests and the sealed envelopes.

The gateway is a relay and a state keeper, never a key holder: it stores the custodian's
Ed25519 *public* key (to verify manifests before accepting them), each epoch's state, the
signed manifests exactly as uploaded, and every envelope as an opaque sealed blob that only
the recipient client's X25519 private key (in the partner's connector) can open. No column
here can hold a master salt, a type key or any partner's private key.

The epochs themselves (their numbers and states) are :mod:`gateway.epochs`' records: every
area that accepts tokens reads them, and key custody, here, changes them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base, BigIntPK


class CustodianStatus(StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"


class ManifestKind(StrEnum):
    """A manifest creates an epoch, or adds envelopes to one (a partner joined mid-epoch)."""

    EPOCH = "epoch"
    SUPPLEMENT = "supplement"


class CustodianKey(Base):
    """The custodian's Ed25519 public key; at most one is active at a time."""

    __tablename__ = "custodian_keys"

    key_id: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 hex of the key
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    status: Mapped[str] = mapped_column(String(16), default=CustodianStatus.ACTIVE.value)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class KeyManifest(Base):
    """A custodian-signed manifest, stored byte for byte so connectors can verify it too."""

    __tablename__ = "key_manifests"
    __table_args__ = (Index("ix_key_manifests_epoch", "epoch"),)

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    epoch: Mapped[int] = mapped_column(ForeignKey("key_epochs.epoch"))
    kind: Mapped[str] = mapped_column(String(16))
    body: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    sha256: Mapped[str] = mapped_column(String(64), unique=True)
    custodian_key_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class KeyEnvelope(Base):
    """One client's sealed type keys for one epoch: opaque to the gateway."""

    __tablename__ = "key_envelopes"
    __table_args__ = (
        UniqueConstraint("epoch", "client_id", name="uq_key_envelopes_epoch"),
        Index("ix_key_envelopes_client_id", "client_id"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True, autoincrement=True)
    epoch: Mapped[int] = mapped_column(ForeignKey("key_epochs.epoch"))
    manifest_id: Mapped[int] = mapped_column(ForeignKey("key_manifests.id"))
    client_id: Mapped[str] = mapped_column(ForeignKey("partner_clients.id"))
    partner_id: Mapped[str] = mapped_column(ForeignKey("partners.id"))
    # RFC 7638 thumbprint of the X25519 public key the envelope is sealed to.
    recipient_key_id: Mapped[str] = mapped_column(String(64))
    kinds: Mapped[str] = mapped_column(Text)  # comma-separated, sorted
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fetched_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
