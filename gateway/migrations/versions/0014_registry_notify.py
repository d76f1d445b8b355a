"""PostgreSQL tells every gateway worker when partners, their clients or key epochs change.

A statement-level trigger on each of the three tables sends ``NOTIFY ppsgate_registry`` with
the table's name; the workers listen and forget what they remembered of the registry
(``gateway.registry_watch``). NOTIFY is delivered only when the change commits, and one
transaction's identical notifications are delivered once. SQLite has no notifications: its
single process reads the registry on every request.

Revision ID: 0014_registry_notify
Revises: 0013_report_evidence
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0014_registry_notify"
down_revision = "0013_report_evidence"
branch_labels = None
depends_on = None

# Kept equal to gateway.registry_watch (CHANNEL, TRIGGER, TABLES); a test checks that.
CHANNEL = "ppsgate_registry"
TRIGGER = "ppsgate_registry_changed"
TABLES = ("partners", "partner_clients", "key_epochs")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        f"""
        CREATE FUNCTION {TRIGGER}() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('{CHANNEL}', TG_TABLE_NAME);
            RETURN NULL;
        END
        $$
        """
    )
    for table in TABLES:
        op.execute(
            f"CREATE TRIGGER {TRIGGER} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION {TRIGGER}()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {TRIGGER} ON {table}")
    op.execute(f"DROP FUNCTION IF EXISTS {TRIGGER}()")
