"""Keys: custodian public keys, salt epochs, signed manifests, sealed envelopes.

Revision ID: 0006_keys
Revises: 0001_foundation
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_keys"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

BIGINT_PK = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "custodian_keys",
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("public_key", sa.LargeBinary(32), nullable=False),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("partner_clients.id", name="fk_custodian_keys_client_id_partner_clients"),
            nullable=False,
        ),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("key_id", name="pk_custodian_keys"),
    )
    op.create_table(
        "key_epochs",
        sa.Column("epoch", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("spec", sa.String(8), nullable=False),
        sa.Column(
            "custodian_key_id",
            sa.String(64),
            sa.ForeignKey(
                "custodian_keys.key_id", name="fk_key_epochs_custodian_key_id_custodian_keys"
            ),
            nullable=False,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("activated_at", TS, nullable=True),
        sa.Column("retiring_at", TS, nullable=True),
        sa.Column("overlap_ends_at", TS, nullable=True),
        sa.Column("retired_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("epoch", name="pk_key_epochs"),
    )
    op.create_table(
        "key_manifests",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "epoch",
            sa.Integer(),
            sa.ForeignKey("key_epochs.epoch", name="fk_key_manifests_epoch_key_epochs"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("signature", sa.LargeBinary(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("custodian_key_id", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_key_manifests"),
        sa.UniqueConstraint("sha256", name="uq_key_manifests_sha256"),
    )
    op.create_index("ix_key_manifests_epoch", "key_manifests", ["epoch"])
    op.create_table(
        "key_envelopes",
        sa.Column("id", BIGINT_PK, autoincrement=True, nullable=False),
        sa.Column(
            "epoch",
            sa.Integer(),
            sa.ForeignKey("key_epochs.epoch", name="fk_key_envelopes_epoch_key_epochs"),
            nullable=False,
        ),
        sa.Column(
            "manifest_id",
            sa.BigInteger(),
            sa.ForeignKey("key_manifests.id", name="fk_key_envelopes_manifest_id_key_manifests"),
            nullable=False,
        ),
        sa.Column(
            "client_id",
            sa.String(64),
            sa.ForeignKey("partner_clients.id", name="fk_key_envelopes_client_id_partner_clients"),
            nullable=False,
        ),
        sa.Column(
            "partner_id",
            sa.String(64),
            sa.ForeignKey("partners.id", name="fk_key_envelopes_partner_id_partners"),
            nullable=False,
        ),
        sa.Column("recipient_key_id", sa.String(64), nullable=False),
        sa.Column("kinds", sa.Text(), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("fetched_at", TS, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_key_envelopes"),
        sa.UniqueConstraint("epoch", "client_id", name="uq_key_envelopes_epoch"),
    )
    op.create_index("ix_key_envelopes_client_id", "key_envelopes", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_key_envelopes_client_id", table_name="key_envelopes")
    op.drop_table("key_envelopes")
    op.drop_index("ix_key_manifests_epoch", table_name="key_manifests")
    op.drop_table("key_manifests")
    op.drop_table("key_epochs")
    op.drop_table("custodian_keys")
