"""Initial store: decisions audit log, strategy versions, routing history, lists.

Revision ID: 0001
Revises:
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fk_decisions",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("event_ts", sa.String(40)),
        sa.Column("customer_id", sa.String(128), index=True),
        sa.Column("strategy_name", sa.String(128), nullable=False),
        sa.Column("strategy_version", sa.String(64), nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("record", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "fk_strategy_versions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("event_type", sa.String(32), nullable=False),
        sa.Column("product", sa.String(64)),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("artifacts", sa.Text, nullable=False),
        sa.Column("file", sa.String(512)),
        sa.Column("deployed_at", sa.String(40), nullable=False),
        sa.UniqueConstraint("name", "version", name="uq_strategy_name_version"),
    )
    op.create_table(
        "fk_routing",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("route", sa.String(128), nullable=False, index=True),
        sa.Column("config", sa.Text, nullable=False),
        sa.Column("note", sa.String(256)),
        sa.Column("at", sa.String(40), nullable=False),
    )
    op.create_table(
        "fk_lists",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("list_name", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.String(256), nullable=False),
        sa.Column("reason", sa.String(512)),
        sa.Column("source", sa.String(128)),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("expires_at", sa.String(40)),
        sa.Column("removed_at", sa.String(40)),
    )


def downgrade() -> None:
    for t in ("fk_lists", "fk_routing", "fk_strategy_versions", "fk_decisions"):
        op.drop_table(t)
