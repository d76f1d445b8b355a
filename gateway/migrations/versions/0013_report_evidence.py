"""Reports carry a victim reference, an evidence level and a retention-extension reason;
alerts keep the obligations that came with them.

Revision ID: 0013_report_evidence
Revises: 0012_signin_throttle
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013_report_evidence"
down_revision = "0012_signin_throttle"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable: earlier reports have no victim reference and no stated evidence level; they
    # count as reports, never as distinct victims, and rank below every evidence level.
    with op.batch_alter_table("indicators") as batch:
        batch.add_column(sa.Column("victim_hash", sa.LargeBinary(32), nullable=True))
        batch.add_column(sa.Column("evidence", sa.String(32), nullable=True))
        batch.add_column(sa.Column("retention_reason", sa.String(48), nullable=True))
    # The obligations (codes and texts) an alert carried when it was made.
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("obligations", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("obligations")
    with op.batch_alter_table("indicators") as batch:
        batch.drop_column("retention_reason")
        batch.drop_column("evidence")
        batch.drop_column("victim_hash")
