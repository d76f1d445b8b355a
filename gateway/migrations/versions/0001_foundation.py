"""Foundation: partners, connector clients, indicators, idempotent responses.

Revision ID: 0001_foundation
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_foundation"
down_revision = None
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("sector", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_partners"),
    )
    op.create_table(
        "partner_clients",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("public_jwk", sa.Text(), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("key_rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_partner_clients_partner_id_partners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_partner_clients"),
    )
    op.create_index("ix_partner_clients_partner_id", "partner_clients", ["partner_id"])
    op.create_table(
        "indicators",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("category", sa.String(48), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("reference_hash", sa.LargeBinary(32), nullable=False),
        sa.Column("purpose", sa.String(64), nullable=False),
        sa.Column("legal_basis", sa.String(64), nullable=False),
        sa.Column("confidence", sa.SmallInteger(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("observed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_indicators_partner_id_partners"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_indicators"),
        sa.UniqueConstraint(
            "partner_id", "token_hash", "category", "reference_hash", name="uq_indicators_report"
        ),
    )
    op.create_index("ix_indicators_token_epoch", "indicators", ["token_hash", "epoch"])
    op.create_index("ix_indicators_expires_at", "indicators", ["expires_at"])
    op.create_table(
        "idempotent_responses",
        sa.Column("partner_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("request_digest", sa.LargeBinary(32), nullable=False),
        sa.Column("status_code", sa.SmallInteger(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name="fk_idempotent_responses_partner_id_partners"
        ),
        sa.PrimaryKeyConstraint("partner_id", "key", name="pk_idempotent_responses"),
    )


def downgrade() -> None:
    op.drop_table("idempotent_responses")
    op.drop_index("ix_indicators_expires_at", table_name="indicators")
    op.drop_index("ix_indicators_token_epoch", table_name="indicators")
    op.drop_table("indicators")
    op.drop_index("ix_partner_clients_partner_id", table_name="partner_clients")
    op.drop_table("partner_clients")
    op.drop_table("partners")
