"""initial ledger

Revision ID: 0001
Revises:
Create Date: 2026-11-24 04:03:15.762170
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ar_snapshots",
        sa.Column("snapshot_date", sa.Date(), nullable=False),
        sa.Column("total_ar", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("current", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_1_30", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_31_60", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_61_90", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_91_120", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_120_plus", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("credit_sales", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("collections", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("snapshot_date", name=op.f("pk_ar_snapshots")),
    )
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=64), nullable=False),
        sa.Column("action", sa.String(length=50), nullable=False),
        sa.Column("entity", sa.String(length=30), nullable=False),
        sa.Column("entity_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"], unique=False)

    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("recipient", sa.String(length=64), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "pending",
                "sent",
                "failed",
                "skipped",
                name="deliverystatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=64), nullable=True),
        sa.Column("messages", sa.JSON(), nullable=True),
        sa.Column("claimed_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("sent_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("key", name=op.f("uq_deliveries_key")),
    )
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
    op.create_table(
        "policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_policies")),
        sa.UniqueConstraint("version", name=op.f("uq_policies_version")),
    )
    op.create_table(
        "team_members",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slack_user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column(
            "role",
            sa.Enum("collector", "manager", "admin", name="role", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("manager_id", sa.Integer(), nullable=True),
        sa.Column("backup_id", sa.Integer(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("daily_call_target", sa.Integer(), nullable=False),
        sa.Column("working_days", sa.String(length=20), nullable=False),
        sa.Column("morning_time", sa.Time(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["backup_id"], ["team_members.id"], name=op.f("fk_team_members_backup_id_team_members")
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["team_members.id"],
            name=op.f("fk_team_members_manager_id_team_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_team_members")),
        sa.UniqueConstraint("slack_user_id", name=op.f("uq_team_members_slack_user_id")),
    )
    op.create_table(
        "call_lists",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("list_date", sa.Date(), nullable=False),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("past_due_book", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["team_members.id"],
            name=op.f("fk_call_lists_collector_id_team_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_lists")),
        sa.UniqueConstraint("collector_id", "list_date", name=op.f("uq_call_lists_collector_id")),
    )
    op.create_table(
        "customers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("contact_name", sa.String(length=200), nullable=True),
        sa.Column("phone", sa.String(length=50), nullable=True),
        sa.Column("email", sa.String(length=200), nullable=True),
        sa.Column("tier", sa.String(length=20), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "active",
                "on_hold",
                "agency",
                "legal",
                "closed",
                name="customerstatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("collector_id", sa.Integer(), nullable=True),
        sa.Column("snoozed_until", sa.Date(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["team_members.id"],
            name=op.f("fk_customers_collector_id_team_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_customers")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_customers_external_ref")),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_customers_collector_id"), ["collector_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_customers_name"), ["name"], unique=False)

    op.create_table(
        "call_list_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("call_list_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("reason", sa.String(length=300), nullable=False),
        sa.Column("past_due", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("days_past_due", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["call_list_id"],
            ["call_lists.id"],
            name=op.f("fk_call_list_entries_call_list_id_call_lists"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_call_list_entries_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_list_entries")),
        sa.UniqueConstraint(
            "call_list_id", "customer_id", name=op.f("uq_call_list_entries_call_list_id")
        ),
    )
    op.create_table(
        "contact_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "outcome",
            sa.Enum(
                "reached",
                "left_voicemail",
                "no_answer",
                "wrong_number",
                "promise_to_pay",
                "paid",
                "dispute",
                "callback_requested",
                "refused",
                "note",
                name="outcome",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("callback_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["team_members.id"],
            name=op.f("fk_contact_attempts_collector_id_team_members"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_contact_attempts_customer_id_customers"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_attempts")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_contact_attempts_idempotency_key")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_contact_attempts_collector_id"), ["collector_id"], unique=False
        )
        batch_op.create_index(
            "ix_contact_attempts_customer_at", ["customer_id", "at"], unique=False
        )

    op.create_table(
        "escalations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "level",
            sa.Enum(
                "manager", "agency", "legal", name="escalationlevel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum("open", "decided", name="escalationstatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("decision", sa.String(length=30), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_escalations_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["team_members.id"],
            name=op.f("fk_escalations_decided_by_id_team_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_escalations")),
    )
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_escalations_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "invoices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=64), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("issue_date", sa.Date(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("amount_paid", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column(
            "status",
            sa.Enum("open", "paid", "void", name="invoicestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("settled_date", sa.Date(), nullable=True),
        sa.Column("disputed", sa.Boolean(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_invoices_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoices")),
        sa.UniqueConstraint("number", name=op.f("uq_invoices_number")),
    )
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.create_index(
            "ix_invoices_customer_status", ["customer_id", "status"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_invoices_due_date"), ["due_date"], unique=False)

    op.create_table(
        "disputes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=50), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("open", "resolved", name="disputestatus", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("opened_by_id", sa.Integer(), nullable=True),
        sa.Column("opened_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", bot.db.models.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["contact_attempts.id"],
            name=op.f("fk_disputes_attempt_id_contact_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_disputes_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_id"],
            ["team_members.id"],
            name=op.f("fk_disputes_opened_by_id_team_members"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_disputes")),
    )
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_disputes_customer_id"), ["customer_id"], unique=False)

    op.create_table(
        "payments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("external_ref", sa.String(length=80), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_payments_customer_id_customers")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_payments_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
        sa.UniqueConstraint("external_ref", name=op.f("uq_payments_external_ref")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_invoice_id"), ["invoice_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_paid_on"), ["paid_on"], unique=False)

    op.create_table(
        "promises_to_pay",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("collector_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.Integer(), nullable=True),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("promised_date", sa.Date(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "open",
                "kept",
                "partially_kept",
                "broken",
                "cancelled",
                name="promisestatus",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("amount_received", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("resolved_on", sa.Date(), nullable=True),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["attempt_id"],
            ["contact_attempts.id"],
            name=op.f("fk_promises_to_pay_attempt_id_contact_attempts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collector_id"],
            ["team_members.id"],
            name=op.f("fk_promises_to_pay_collector_id_team_members"),
        ),
        sa.ForeignKeyConstraint(
            ["customer_id"], ["customers.id"], name=op.f("fk_promises_to_pay_customer_id_customers")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_promises_to_pay")),
    )
    with op.batch_alter_table("promises_to_pay", schema=None) as batch_op:
        batch_op.create_index("ix_promises_status_date", ["status", "promised_date"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_promises_to_pay_customer_id"), ["customer_id"], unique=False
        )

    op.create_table(
        "dispute_invoices",
        sa.Column("dispute_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["dispute_id"],
            ["disputes.id"],
            name=op.f("fk_dispute_invoices_dispute_id_disputes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_dispute_invoices_invoice_id_invoices")
        ),
        sa.PrimaryKeyConstraint("dispute_id", "invoice_id", name=op.f("pk_dispute_invoices")),
    )


def downgrade() -> None:
    op.drop_table("dispute_invoices")
    with op.batch_alter_table("promises_to_pay", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_promises_to_pay_customer_id"))
        batch_op.drop_index("ix_promises_status_date")

    op.drop_table("promises_to_pay")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payments_paid_on"))
        batch_op.drop_index(batch_op.f("ix_payments_invoice_id"))
        batch_op.drop_index(batch_op.f("ix_payments_customer_id"))

    op.drop_table("payments")
    with op.batch_alter_table("disputes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_disputes_customer_id"))

    op.drop_table("disputes")
    with op.batch_alter_table("invoices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_invoices_due_date"))
        batch_op.drop_index("ix_invoices_customer_status")

    op.drop_table("invoices")
    with op.batch_alter_table("escalations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_escalations_customer_id"))

    op.drop_table("escalations")
    with op.batch_alter_table("contact_attempts", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_attempts_customer_at")
        batch_op.drop_index(batch_op.f("ix_contact_attempts_collector_id"))

    op.drop_table("contact_attempts")
    op.drop_table("call_list_entries")
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_customers_name"))
        batch_op.drop_index(batch_op.f("ix_customers_collector_id"))

    op.drop_table("customers")
    op.drop_table("call_lists")
    op.drop_table("team_members")
    op.drop_table("policies")
    op.drop_table("objectives")
    op.drop_table("deliveries")
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_events_at"))

    op.drop_table("audit_events")
    op.drop_table("ar_snapshots")
