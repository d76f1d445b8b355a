"""Tracked requests between partners about a hit, and the reporters' answers.

Revision ID: 0011_partner_requests
Revises: 0010_kind_width
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011_partner_requests"
down_revision = "0010_kind_width"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def _partner(table: str, column: str) -> sa.Column[str]:
    return sa.Column(
        column,
        sa.String(64),
        sa.ForeignKey("partners.id", name=f"fk_{table}_{column}_partners"),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "partner_requests",
        sa.Column("id", sa.String(32), nullable=False),
        _partner("partner_requests", "requester_id"),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("request_type", sa.String(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.String(64), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("deadline", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_partner_requests"),
    )
    op.create_index("ix_partner_requests_token", "partner_requests", ["token_hash"])
    op.create_table(
        "partner_request_recipients",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "request_id",
            sa.String(32),
            sa.ForeignKey(
                "partner_requests.id",
                name="fk_partner_request_recipients_request_id_partner_requests",
            ),
            nullable=False,
        ),
        _partner("partner_request_recipients", "partner_id"),
        sa.Column("answer", sa.String(16), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("answered_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_partner_request_recipients"),
        sa.UniqueConstraint("request_id", "partner_id", name="uq_request_recipient"),
    )
    op.create_index("ix_request_recipients_partner", "partner_request_recipients", ["partner_id"])


def downgrade() -> None:
    op.drop_index("ix_request_recipients_partner", table_name="partner_request_recipients")
    op.drop_table("partner_request_recipients")
    op.drop_index("ix_partner_requests_token", table_name="partner_requests")
    op.drop_table("partner_requests")
