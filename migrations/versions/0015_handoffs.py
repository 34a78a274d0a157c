"""customers: the last hand-off to another collector

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-30 01:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("handed_over_at", bot.db.models.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column("handed_over_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("handover_attempts", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("handover_attempts")
        batch_op.drop_column("handed_over_from_id")
        batch_op.drop_column("handed_over_at")
