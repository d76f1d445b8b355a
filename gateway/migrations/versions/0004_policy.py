"""Policy versions and four-eyes approvals.

Revision ID: 0004_policy
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_policy"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "policy_versions",
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("files", sa.Text(), nullable=False),
        sa.Column("proposed_by", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("test_report", sa.Text(), nullable=False),
        sa.Column("previous_digest", sa.String(64), nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.Column("activated_by", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("digest", name="pk_policy_versions"),
    )
    op.create_table(
        "policy_approvals",
        sa.Column(
            "digest",
            sa.String(64),
            sa.ForeignKey(
                "policy_versions.digest", name="fk_policy_approvals_digest_policy_versions"
            ),
            nullable=False,
        ),
        sa.Column("approver", sa.String(64), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("digest", "approver", name="pk_policy_approvals"),
    )


def downgrade() -> None:
    op.drop_table("policy_approvals")
    op.drop_table("policy_versions")
