"""Tables of the audit log.

- ``audit_log_head``: one row (id 1) with the tree size and its frontier (the perfect
  subtree hashes that make up the tree), advanced by the sequencer; on SQLite also the
  count of reserved sequence numbers (PostgreSQL uses the ``audit_entry_seq`` sequence).
- ``audit_entries``: the canonical entry bytes (what the leaf commits to) plus copies of a
  few fields for search; the copies are never trusted for verification.
- ``audit_nodes``: the hash of every perfect subtree, keyed by ``(level, idx)``; a cache that
  makes proofs O(log n) reads and that verifiers never have to trust.
- ``audit_details`` and ``audit_detail_tokens``: purgeable detail records and the index of
  peppered token hashes used for subject access; deleting them breaks no proof.
- ``audit_checkpoints`` and ``audit_cosignatures``: signed tree heads (with the frontier they
  were computed from, so the next signature extends them) and witnesses' cosignatures.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    LargeBinary,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from gateway.db import Base

HEAD_ROW_ID = 1


class AuditLogHead(Base):
    __tablename__ = "audit_log_head"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    # SQLite: numbers handed out so far (transactional). PostgreSQL uses audit_entry_seq.
    reserved: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditEntry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_partner_seq", "actor_partner", "seq"),
        Index("ix_audit_entries_time", "time"),
        Index("ix_audit_entries_tag", "tag"),
    )

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    # SHA-256(0x00 || body), computed in the request's transaction; the sequencer refuses a
    # body that no longer matches it.
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    tag: Mapped[str] = mapped_column(String(64))
    request_id: Mapped[str] = mapped_column(String(128))
    actor_partner: Mapped[str | None] = mapped_column(String(128))
    actor_client: Mapped[str | None] = mapped_column(String(128))
    actor_user: Mapped[str | None] = mapped_column(String(128))
    purpose: Mapped[str | None] = mapped_column(String(128))
    decision: Mapped[str | None] = mapped_column(String(8))


class AuditNode(Base):
    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class AuditDetail(Base):
    __tablename__ = "audit_details"
    __table_args__ = (Index("ix_audit_details_expires_at", "expires_at"),)

    seq: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_entries.seq"), primary_key=True, autoincrement=False
    )
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[bytes] = mapped_column(LargeBinary)


class AuditDetailToken(Base):
    """One asked token of a detail record. No foreign key to ``audit_details``: the rows are
    written in the detail's own statement and purged with it, and checking 10,000 of them one
    by one cost a batch match as much as writing them (migration 0015)."""

    __tablename__ = "audit_detail_tokens"

    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)


class AuditCheckpoint(Base):
    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[bytes] = mapped_column(LargeBinary)
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class AuditCosignature(Base):
    __tablename__ = "audit_cosignatures"

    tree_size: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("audit_checkpoints.tree_size"), primary_key=True
    )
    witness: Mapped[str] = mapped_column(String(200), primary_key=True)
    key_id: Mapped[int] = mapped_column(BigInteger)
    signature_line: Mapped[str] = mapped_column(Text)
    cosigned_at: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


__all__ = [
    "HEAD_ROW_ID",
    "AuditCheckpoint",
    "AuditCosignature",
    "AuditDetail",
    "AuditDetailToken",
    "AuditEntry",
    "AuditLogHead",
    "AuditNode",
]
