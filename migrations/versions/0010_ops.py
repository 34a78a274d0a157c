"""job runs, for `collectbot status`

Revision ID: 0010
Revises: 0006
Create Date: 2026-11-29 21:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0010"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Each run of a job (scheduler or `collectbot job`): status reads the last one per job.
    op.create_table(
        "job_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job", sa.String(length=40), nullable=False),
        sa.Column("trigger", sa.String(length=20), nullable=False),
        sa.Column("started_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("result", sa.String(length=20), nullable=False),
        sa.Column("summary", sa.String(length=300), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job_runs")),
    )
    op.create_index("ix_job_runs_job_started_at", "job_runs", ["job", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_job_runs_job_started_at", table_name="job_runs")
    op.drop_table("job_runs")
