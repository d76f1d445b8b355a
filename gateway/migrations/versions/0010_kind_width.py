"""Identifier kinds up to 16 characters (url, crypto_address, social_account).

Revision ID: 0010_kind_width
Revises: 0009_pepper_ring
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010_kind_width"
down_revision = "0009_pepper_ring"
branch_labels = None
depends_on = None

_TABLES = ("indicators", "watch_entries", "alerts", "disputes")


def _resize(old: int, new: int) -> None:
    # SQLite does not enforce VARCHAR lengths, so it is left alone rather than copying the
    # indicator table; PostgreSQL widens a varchar without rewriting the table.
    if op.get_context().dialect.name == "sqlite":
        return
    for table in _TABLES:
        op.alter_column(table, "kind", existing_type=sa.String(old), type_=sa.String(new))


def upgrade() -> None:
    _resize(8, 16)


def downgrade() -> None:
    _resize(16, 8)
