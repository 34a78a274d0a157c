"""escalations: evidence, closing, snooze; one open escalation per account

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 00:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("status = 'open'")


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        # Merged reasons in words ("no contact for 12 days (policy: 7) · ...") outgrow 200.
        batch_op.alter_column("reason", existing_type=sa.String(length=200),
                              type_=sa.String(length=500), existing_nullable=False)
        batch_op.add_column(sa.Column("evidence", sa.JSON(), nullable=True))
        batch_op.add_column(
            sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(
            sa.Column("closed_at", bot.db.models.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("close_reason", sa.String(length=300), nullable=True))
        batch_op.add_column(sa.Column("snoozed_until", sa.Date(), nullable=True))
    # Escalations decided before this version are closed when they were decided.
    op.execute("UPDATE escalations SET closed_at = decided_at WHERE status <> 'open'")
    op.execute("UPDATE escalations SET evidence = '{}' WHERE evidence IS NULL")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.alter_column("evidence", existing_type=sa.JSON(), nullable=False)
    # Only one may stay open per account: the oldest; any later one is closed into it.
    op.execute(
        "UPDATE escalations SET status = 'closed', closed_at = created_at, "
        "close_reason = 'merged into the account''s older open escalation' "
        "WHERE status = 'open' AND EXISTS (SELECT 1 FROM escalations older "
        "WHERE older.customer_id = escalations.customer_id AND older.status = 'open' "
        "AND older.id < escalations.id)"
    )
    op.create_index("uq_escalations_open_customer", "escalations", ["customer_id"],
                    unique=True, sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    op.drop_index("uq_escalations_open_customer", table_name="escalations")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_column("snoozed_until")
        batch_op.drop_column("close_reason")
        batch_op.drop_column("closed_at")
        batch_op.drop_column("updated_at")
        batch_op.drop_column("evidence")
        batch_op.alter_column("reason", existing_type=sa.String(length=500),
                              type_=sa.String(length=200), existing_nullable=False)
