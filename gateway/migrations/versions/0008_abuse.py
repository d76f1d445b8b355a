"""Abuse: quota usage per window, probe fingerprints, enumeration alerts.

Revision ID: 0008_abuse
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_abuse"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "abuse_quota_usage",
        sa.Column("scope", sa.String(8), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("used", sa.BigInteger(), nullable=False),
        sa.Column("distinct_tokens", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("alerted", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint(
            "scope", "subject", "purpose", "window_start", name="pk_abuse_quota_usage"
        ),
    )
    op.create_index(
        "ix_abuse_quota_usage_partner", "abuse_quota_usage", ["partner_id", "window_start"]
    )
    op.create_table(
        "abuse_probe_fingerprints",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("window_start", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("fingerprint", sa.LargeBinary(8), nullable=False),
        sa.PrimaryKeyConstraint(
            "partner_id",
            "purpose",
            "window_start",
            "fingerprint",
            name="pk_abuse_probe_fingerprints",
        ),
    )
    op.create_table(
        "abuse_alerts",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_abuse_alerts_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("client_id", sa.String(64), nullable=True),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("window_seconds", sa.Integer(), nullable=False),
        sa.Column("items", sa.BigInteger(), nullable=False),
        sa.Column("distinct_tokens", sa.BigInteger(), nullable=False),
        sa.Column("hits", sa.BigInteger(), nullable=False),
        sa.Column("request_id", sa.String(32), nullable=False),
        sa.Column("audit_seq", sa.BigInteger(), nullable=False),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_abuse_alerts"),
    )
    op.create_index("ix_abuse_alerts_partner_id", "abuse_alerts", ["partner_id"])
    op.create_index("ix_abuse_alerts_status_raised", "abuse_alerts", ["status", "raised_at"])


def downgrade() -> None:
    op.drop_index("ix_abuse_alerts_status_raised", table_name="abuse_alerts")
    op.drop_index("ix_abuse_alerts_partner_id", table_name="abuse_alerts")
    op.drop_table("abuse_alerts")
    op.drop_table("abuse_probe_fingerprints")
    op.drop_index("ix_abuse_quota_usage_partner", table_name="abuse_quota_usage")
    op.drop_table("abuse_quota_usage")
