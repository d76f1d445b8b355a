"""Matching: watch lists, disclosures, alerts with per-partner cursors, disputes, feedback.

Revision ID: 0005_matching
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_matching"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "watch_entries",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_watch_entries_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_watch_entries"),
        sa.UniqueConstraint("partner_id", "token_hash", "purpose", name="uq_watch_entries_entry"),
    )
    op.create_index("ix_watch_entries_token_hash", "watch_entries", ["token_hash"])
    op.create_table(
        "disclosures",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_disclosures_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("row", sa.Integer(), nullable=True),
        sa.Column(
            "watch_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "watch_entries.id",
                name="fk_disclosures_watch_id_watch_entries",
                ondelete="SET NULL",
            ),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_disclosures"),
    )
    op.create_index("ix_disclosures_token_hash", "disclosures", ["token_hash"])
    op.create_table(
        "alerts",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_alerts_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column(
            "watch_id",
            sa.BigInteger(),
            sa.ForeignKey(
                "watch_entries.id", name="fk_alerts_watch_id_watch_entries", ondelete="SET NULL"
            ),
            nullable=True,
        ),
        sa.Column("about_request_id", sa.String(32), nullable=True),
        sa.Column("about_row", sa.Integer(), nullable=True),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("disclosed", sa.Text(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alerts"),
        sa.UniqueConstraint("partner_id", "seq", name="uq_alerts_partner_seq"),
    )
    op.create_table(
        "alert_cursors",
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_alert_cursors_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("acknowledged", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name="pk_alert_cursors"),
    )
    op.create_table(
        "disputes",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column(
            "filed_by",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_disputes_filed_by_partners"),
            nullable=False,
        ),
        sa.Column("grounds", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("closed_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_disputes"),
    )
    op.create_index("ix_disputes_token_hash", "disputes", ["token_hash"])
    op.create_table(
        "feedback",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_feedback_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_feedback"),
        sa.UniqueConstraint("partner_id", "token_hash", name="uq_feedback_verdict"),
    )

    op.create_table(
        "webhook_endpoints",
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_webhook_endpoints_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("url", sa.String(500), nullable=False),
        sa.Column("secret_version", sa.Integer(), nullable=False),
        sa.Column("delivered_seq", sa.BigInteger(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("last_error", sa.String(200), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("partner_id", name="pk_webhook_endpoints"),
    )


def downgrade() -> None:
    op.drop_table("webhook_endpoints")
    for table in (
        "feedback",
        "disputes",
        "alert_cursors",
        "alerts",
        "disclosures",
        "watch_entries",
    ):
        op.drop_table(table)
