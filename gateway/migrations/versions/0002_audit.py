"""Audit log: entries, Merkle nodes, head row, details, checkpoints, cosignatures.

Revision ID: 0002_audit
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0002_audit"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    head = op.create_table(
        "audit_log_head",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("reserved", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name="ck_audit_log_head_single_row"),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log_head"),
    )
    op.bulk_insert(
        head,
        [
            {
                "id": 1,
                "tree_size": 0,
                "frontier": b"",
                "reserved": 0,
                "updated_at": datetime.now(UTC),
            }
        ],
    )
    if op.get_bind().dialect.name == "postgresql":
        # Sequence numbers are drawn without a lock; gaps left by rollbacks become void entries.
        op.execute("CREATE SEQUENCE audit_entry_seq AS bigint MINVALUE 0 START WITH 0")
    op.create_table(
        "audit_entries",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("actor_partner", sa.String(128), nullable=True),
        sa.Column("actor_client", sa.String(128), nullable=True),
        sa.Column("actor_user", sa.String(128), nullable=True),
        sa.Column("purpose", sa.String(128), nullable=True),
        sa.Column("decision", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_entries"),
    )
    op.create_index("ix_audit_entries_partner_seq", "audit_entries", ["actor_partner", "seq"])
    op.create_index("ix_audit_entries_time", "audit_entries", ["time"])
    op.create_index("ix_audit_entries_tag", "audit_entries", ["tag"])
    op.create_table(
        "audit_nodes",
        sa.Column("level", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(32), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_audit_nodes"),
    )
    op.create_table(
        "audit_details",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_entries.seq"], name="fk_audit_details_seq_audit_entries"
        ),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_details"),
    )
    op.create_index("ix_audit_details_expires_at", "audit_details", ["expires_at"])
    op.create_table(
        "audit_detail_tokens",
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.ForeignKeyConstraint(
            ["seq"], ["audit_details.seq"], name="fk_audit_detail_tokens_seq_audit_details"
        ),
        sa.PrimaryKeyConstraint("token_hash", "seq", name="pk_audit_detail_tokens"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("root_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("frontier", sa.LargeBinary(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tree_size", name="pk_audit_checkpoints"),
    )
    op.create_table(
        "audit_cosignatures",
        sa.Column("tree_size", sa.BigInteger(), nullable=False),
        sa.Column("witness", sa.String(200), nullable=False),
        sa.Column("key_id", sa.BigInteger(), nullable=False),
        sa.Column("signature_line", sa.Text(), nullable=False),
        sa.Column("cosigned_at", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tree_size"],
            ["audit_checkpoints.tree_size"],
            name="fk_audit_cosignatures_tree_size_audit_checkpoints",
        ),
        sa.PrimaryKeyConstraint("tree_size", "witness", name="pk_audit_cosignatures"),
    )


def downgrade() -> None:
    op.drop_table("audit_cosignatures")
    op.drop_table("audit_checkpoints")
    op.drop_table("audit_detail_tokens")
    op.drop_index("ix_audit_details_expires_at", table_name="audit_details")
    op.drop_table("audit_details")
    op.drop_table("audit_nodes")
    op.drop_index("ix_audit_entries_tag", table_name="audit_entries")
    op.drop_index("ix_audit_entries_time", table_name="audit_entries")
    op.drop_index("ix_audit_entries_partner_seq", table_name="audit_entries")
    op.drop_table("audit_entries")
    op.drop_table("audit_log_head")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP SEQUENCE IF EXISTS audit_entry_seq")
