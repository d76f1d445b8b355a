"""The audit log's token index without a foreign key to its detail records.

``audit_detail_tokens`` is written in the same statement as the detail record it indexes
(``gateway.audit_trail.service``) and deleted with it (``purge_details``), never elsewhere.
The foreign key made PostgreSQL check every index row against ``audit_details`` one by one:
for a batch match of 10,000 tokens that check cost about as much as writing the rows
(docs/audit.md §3).

Revision ID: 0015_detail_tokens_unchecked
Revises: 0002_audit
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0015_detail_tokens_unchecked"
down_revision = "0002_audit"  # the audit tables' own branch
branch_labels = None
depends_on = None

TABLE = "audit_detail_tokens"
CONSTRAINT = "fk_audit_detail_tokens_seq_audit_details"


def upgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.drop_constraint(CONSTRAINT, type_="foreignkey")


def downgrade() -> None:
    with op.batch_alter_table(TABLE) as batch:
        batch.create_foreign_key(CONSTRAINT, "audit_details", ["seq"], ["seq"])
