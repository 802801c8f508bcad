"""Console: indexes for the inbox order and the decision log's outcome/time, the monitoring rollup tables.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # the inbox order itself (status and queue included so the scan never reads the table): the first page is
    # the first matching entries, with no sort of every open case
    op.create_index("ix_cases_order", "fk_cases", [sa.text("priority DESC"), sa.text("amount_fen DESC"), "created_at",
                                                   "id", "status", "queue", "product"])
    # take-next: the most urgent open, unassigned case without a sort
    op.create_index("ix_cases_next", "fk_cases", ["status", sa.text("priority DESC"), sa.text("amount_fen DESC"),
                                                  "created_at", "id", "assignee", "snoozed_until"])
    op.create_index("ix_cases_product", "fk_cases", ["product"])
    op.create_index("ix_decisions_outcome", "fk_decisions", ["outcome", "seq"])
    op.create_table(
        "fk_console_hourly",
        sa.Column("hour", sa.String(16), primary_key=True),
        sa.Column("event_type", sa.String(32), primary_key=True),
        sa.Column("data", sa.Text, nullable=False),
    )
    op.create_table(
        "fk_console_state",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(256), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("fk_console_state")
    op.drop_table("fk_console_hourly")
    op.drop_index("ix_decisions_outcome", "fk_decisions")
    op.drop_index("ix_cases_product", "fk_cases")
    op.drop_index("ix_cases_next", "fk_cases")
    op.drop_index("ix_cases_order", "fk_cases")
