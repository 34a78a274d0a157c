"""escalations: step up the roster, recipient and the message that shows each

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 00:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("step", sa.Integer(), server_default="1", nullable=False))
        batch_op.add_column(sa.Column("recipient", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("message_key", sa.String(length=200), nullable=True))
        batch_op.create_index(batch_op.f("ix_escalations_message_key"), ["message_key"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_message_key"))
        batch_op.drop_column("message_key")
        batch_op.drop_column("recipient")
        batch_op.drop_column("step")
