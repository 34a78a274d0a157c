"""team member's Slack time zone, cached

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-24 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Slack's users.info tz, remembered by the call-lists job: the one zone resolver reads it
    # after the roster's own zone and before the team default.
    with op.batch_alter_table("team_members") as batch:
        batch.add_column(sa.Column("slack_timezone", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("team_members") as batch:
        batch.drop_column("slack_timezone")
