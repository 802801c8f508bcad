"""Keyed audit chain: a hash-version column on the decision log (old rows 1 = unkeyed) and signed checkpoints.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("fk_decisions", sa.Column("hv", sa.Integer, nullable=False, server_default="1"))
    op.create_table(
        "fk_audit_checkpoints",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("chain", sa.String(16), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("key_id", sa.String(16), nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_checkpoints_chain", "fk_audit_checkpoints", ["chain", "seq"])


def downgrade() -> None:
    op.drop_index("ix_audit_checkpoints_chain", "fk_audit_checkpoints")
    op.drop_table("fk_audit_checkpoints")
    with op.batch_alter_table("fk_decisions") as b:
        b.drop_column("hv")
