"""the delivery pool: payloads, retry times, ordering, and the shared pacing gates

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 00:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(sa.Column("payload", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("next_attempt_at", bot.db.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("after_key", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=64), nullable=True))
    # Senders look for due rows by status and retry time.
    op.create_index("ix_deliveries_status_next_attempt_at", "deliveries",
                    ["status", "next_attempt_at"])
    op.create_table(
        "slack_gates",
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("next_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("holder", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_slack_gates")),
    )


def downgrade() -> None:
    op.drop_table("slack_gates")
    op.drop_index("ix_deliveries_status_next_attempt_at", table_name="deliveries")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("after_key")
        batch_op.drop_column("next_attempt_at")
        batch_op.drop_column("payload")
