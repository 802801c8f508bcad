"""Cases (one case store for every pack), labels, users and API keys, the hash-chained admin log.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "fk_cases",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("ref", sa.String(256), nullable=False),
        sa.Column("queue", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("title", sa.String(512), nullable=False),
        sa.Column("customer_id", sa.String(128)),
        sa.Column("request_id", sa.String(128)),
        sa.Column("product", sa.String(64)),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("score", sa.Float),
        sa.Column("evidence", sa.Text, nullable=False),
        sa.Column("status", sa.String(24), nullable=False),
        sa.Column("assignee", sa.String(128)),
        sa.Column("escalated", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("due_at", sa.String(40), nullable=False),
        sa.Column("snoozed_until", sa.String(40)),
        sa.Column("decision", sa.String(32)),
        sa.Column("decided_by", sa.String(128)),
        sa.Column("decision_note", sa.Text),
        sa.Column("closed_at", sa.String(40)),
        sa.UniqueConstraint("source", "ref", name="uq_case_source_ref"),
    )
    op.create_index("ix_cases_inbox", "fk_cases", ["status", "queue", "priority", "created_at"])
    op.create_index("ix_cases_assignee", "fk_cases", ["assignee", "status"])
    op.create_index("ix_cases_customer", "fk_cases", ["customer_id"])
    op.create_index("ix_cases_request", "fk_cases", ["request_id"])
    op.create_table(
        "fk_case_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("case_id", sa.Integer, nullable=False, index=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "fk_labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(256), nullable=False),
        sa.Column("label", sa.String(32), nullable=False),
        sa.Column("pattern", sa.String(64)),
        sa.Column("case_id", sa.Integer),
        sa.Column("request_id", sa.String(128)),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_labels_subject", "fk_labels", ["subject_kind", "subject"])
    op.create_table(
        "fk_users",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("username", sa.String(128), nullable=False, unique=True),
        sa.Column("display_name", sa.String(256)),
        sa.Column("password_hash", sa.String(256), nullable=False),
        sa.Column("roles", sa.String(512), nullable=False),
        sa.Column("active", sa.Integer, nullable=False, server_default="1"),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "fk_api_keys",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key_id", sa.String(32), nullable=False, unique=True),
        sa.Column("key_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("roles", sa.String(512), nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("revoked_at", sa.String(40)),
    )
    op.create_table(
        "fk_admin_log",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256)),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )


def downgrade() -> None:
    for t in ("fk_admin_log", "fk_api_keys", "fk_users", "fk_labels", "fk_case_events", "fk_cases"):
        op.drop_table(t)
