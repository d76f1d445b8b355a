"""Failed console sign-ins counted per attempted name (existing or not), as a keyed hash.

Revision ID: 0012_signin_throttle
Revises: 0011_partner_requests
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012_signin_throttle"
down_revision = "0011_partner_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_signin_throttle",
        sa.Column("name_key", sa.LargeBinary(32), primary_key=True),
        sa.Column("failed_attempts", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index(
        "ix_console_signin_throttle_updated_at", "console_signin_throttle", ["updated_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_console_signin_throttle_updated_at", table_name="console_signin_throttle")
    op.drop_table("console_signin_throttle")
