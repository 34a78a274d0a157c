"""metrics: daily snapshots per scope, objectives with relative targets and status

Both tables were created empty by 0001 and nothing wrote to them, so they are rebuilt.

Revision ID: 0006
Revises: 0002
Create Date: 2026-11-24 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0006"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MONEY = sa.Numeric(precision=14, scale=2)
BUCKET_COLUMNS = ("current", "days_1_30", "days_31_60", "days_61_90", "days_91_120", "days_120_plus")


def upgrade() -> None:
    op.drop_table("ar_snapshots")
    op.create_table(
        "ar_snapshots",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("scope", sa.String(length=40), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("period_days", sa.Integer(), nullable=False),
        sa.Column("total_ar", MONEY, nullable=False),
        *[sa.Column(name, MONEY, nullable=False) for name in BUCKET_COLUMNS],
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["collector_id"], ["team_members.id"], name=op.f("fk_ar_snapshots_collector_id_team_members")),
        sa.PrimaryKeyConstraint("snapshot_date", "scope", name=op.f("pk_ar_snapshots")),
    )
    op.drop_table("objectives")
    op.create_table(
        "objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("target", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("target_change_pct", sa.Numeric(precision=8, scale=2), nullable=True),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("closed_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
    )


def downgrade() -> None:
    op.drop_table("objectives")
    op.create_table(
        "objectives",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("baseline", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("target", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("start", sa.Date(), nullable=False),
        sa.Column("end", sa.Date(), nullable=False),
        sa.Column("goals", sa.Text(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objectives")),
    )
    op.drop_table("ar_snapshots")
    op.create_table(
        "ar_snapshots",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("total_ar", MONEY, nullable=False),
        *[sa.Column(name, MONEY, nullable=False) for name in BUCKET_COLUMNS],
        sa.Column("credit_sales", MONEY, nullable=False),
        sa.Column("collections", MONEY, nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_date", name=op.f("pk_ar_snapshots")),
    )
