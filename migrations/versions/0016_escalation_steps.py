"""escalation steps: who held each step, the reminder, when it went above

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 03:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "escalation_steps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("escalation_id", sa.Integer(), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=True),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column("message_key", sa.String(length=200), nullable=True),
        sa.Column("reached_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reminded_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("raised_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("woke_on", sa.Date(), nullable=True),
        sa.Column("last", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(["escalation_id"], ["escalations.id"],
                                name=op.f("fk_escalation_steps_escalation_id_escalations")),
        sa.ForeignKeyConstraint(["holder_id"], ["team_members.id"],
                                name=op.f("fk_escalation_steps_holder_id_team_members")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalation_steps")),
        sa.UniqueConstraint("escalation_id", "step", name="uq_escalation_steps_step"),
    )
    op.create_index(op.f("ix_escalation_steps_escalation_id"), "escalation_steps",
                    ["escalation_id"], unique=False)
    op.create_index(op.f("ix_escalation_steps_message_key"), "escalation_steps",
                    ["message_key"], unique=False)
    # Escalations already told: their first step, held by whoever their message went to.
    op.execute(
        "INSERT INTO escalation_steps (escalation_id, step, holder_id, recipient, message_key, "
        "reached_at) SELECT e.id, e.step, (SELECT m.id FROM team_members m "
        "WHERE m.slack_user_id = e.recipient), e.recipient, e.message_key, e.created_at "
        "FROM escalations e WHERE e.message_key IS NOT NULL AND e.recipient IS NOT NULL"
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_escalation_steps_message_key"), table_name="escalation_steps")
    op.drop_index(op.f("ix_escalation_steps_escalation_id"), table_name="escalation_steps")
    op.drop_table("escalation_steps")
