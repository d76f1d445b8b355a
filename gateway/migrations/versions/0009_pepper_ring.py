"""Pepper rotation: which K_gw key each salt epoch and each webhook secret uses.

Revision ID: 0009_pepper_ring
Revises: 0005_matching, 0006_keys
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_pepper_ring"
down_revision = ("0005_matching", "0006_keys")
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: existing rows are bound to the ring's key at the next start
    # (gateway.keys.pepper_binding), which only the process holding the key can compute.
    with op.batch_alter_table("key_epochs") as batch:
        batch.add_column(sa.Column("pepper_key_id", sa.String(16), nullable=True))
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.add_column(sa.Column("secret_key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("webhook_endpoints") as batch:
        batch.drop_column("secret_key_id")
    with op.batch_alter_table("key_epochs") as batch:
        batch.drop_column("pepper_key_id")
