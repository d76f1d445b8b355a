"""Console: the help desk's simulator runs, case register and its search index.

Revision ID: 0007_console
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_console"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)
TERM = sa.String(64).with_variant(sa.String(64, collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "helpdesk_simulations",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("actor_partner", sa.String(64), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("question_key", sa.String(64), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("policy_digest", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_helpdesk_simulations"),
    )
    op.create_index(
        "ix_helpdesk_simulations_question_key", "helpdesk_simulations", ["question_key"]
    )
    op.create_table(
        "helpdesk_cases",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column(
            "asker_partner",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_helpdesk_cases_asker_partner_partners"),
            nullable=True,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("assignee", sa.String(64), nullable=True),
        sa.Column("policy_digest", sa.String(64), nullable=True),
        sa.Column("question_key", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_helpdesk_cases"),
    )
    op.create_index("ix_helpdesk_cases_question_key", "helpdesk_cases", ["question_key"])
    op.create_index("ix_helpdesk_cases_status_updated", "helpdesk_cases", ["status", "updated_at"])
    op.create_table(
        "helpdesk_case_runs",
        sa.Column(
            "case_id",
            BIGINT_PK,
            sa.ForeignKey("helpdesk_cases.id", name="fk_helpdesk_case_runs_case_id_helpdesk_cases"),
            nullable=False,
        ),
        sa.Column(
            "run_id",
            BIGINT_PK,
            sa.ForeignKey(
                "helpdesk_simulations.id",
                name="fk_helpdesk_case_runs_run_id_helpdesk_simulations",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("case_id", "run_id", name="pk_helpdesk_case_runs"),
    )
    op.create_table(
        "helpdesk_case_terms",
        sa.Column("term", TERM, nullable=False),
        sa.Column(
            "case_id",
            BIGINT_PK,
            sa.ForeignKey(
                "helpdesk_cases.id", name="fk_helpdesk_case_terms_case_id_helpdesk_cases"
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("term", "case_id", name="pk_helpdesk_case_terms"),
    )
    op.create_index("ix_helpdesk_case_terms_case_id", "helpdesk_case_terms", ["case_id"])


def downgrade() -> None:
    op.drop_table("helpdesk_case_terms")
    op.drop_table("helpdesk_case_runs")
    op.drop_table("helpdesk_cases")
    op.drop_table("helpdesk_simulations")
