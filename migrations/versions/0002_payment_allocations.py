"""payment allocations

Revision ID: 0002
Revises: 0004
Create Date: 2026-11-29 20:15:00.000000

Each payment's split over invoices becomes a row of its own. Existing ledgers are backfilled so
that every invoice's amount_paid equals the sum of its allocations: a payment linked to an
invoice is applied to it first, payments on account then settle the oldest open invoices (as
the import did), and whatever amount_paid no recorded payment explains becomes an opening
payment `opening:<number>` dated the invoice's settled date (else the day it was last updated).
Payment money no invoice took stays unallocated: the customer's credit.
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import sqlalchemy as sa
from alembic import op

import bot.db.models

revision: str = "0002"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ZERO = Decimal("0.00")


def upgrade() -> None:
    op.create_table(
        "payment_allocations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("applied_on", sa.Date(), nullable=False),
        sa.Column("created_at", bot.db.models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"],
            name=op.f("fk_payment_allocations_invoice_id_invoices"),
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"],
            name=op.f("fk_payment_allocations_payment_id_payments"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_allocations")),
    )
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_payment_allocations_invoice_applied", ["invoice_id", "applied_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_payment_allocations_payment_id"), ["payment_id"], unique=False
        )
    _Backfill(op.get_bind()).run()


def downgrade() -> None:
    with op.batch_alter_table("payment_allocations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payment_allocations_payment_id"))
        batch_op.drop_index("ix_payment_allocations_invoice_applied")
    op.drop_table("payment_allocations")


class _Backfill:
    """Allocations explaining each invoice's amount_paid, gathered before one bulk insert."""

    def __init__(self, conn: sa.Connection) -> None:
        meta = sa.MetaData()
        self.conn = conn
        self.invoices = sa.Table("invoices", meta, autoload_with=conn)
        self.payments = sa.Table("payments", meta, autoload_with=conn)
        self.allocations = sa.Table("payment_allocations", meta, autoload_with=conn)
        self.owed: dict[int, list[Any]] = defaultdict(list)  # customer -> invoices, oldest due
        self.wanted: dict[int, Decimal] = {}  # invoice -> amount_paid not yet explained
        self.rows: list[dict[str, Any]] = []
        self.now = datetime.now(UTC)

    def apply(self, payment_id: int, invoice_id: int, left: Decimal, on: date) -> Decimal:
        """Apply up to `left` of a payment to an invoice; what is left of it."""
        part = min(left, self.wanted[invoice_id])
        if part > 0:
            self.wanted[invoice_id] -= part
            self.rows.append({"payment_id": payment_id, "invoice_id": invoice_id,
                              "amount": part, "applied_on": on, "created_at": self.now})
        return left - part

    def run(self) -> None:
        invoices, payments = self.invoices, self.payments
        for row in self.conn.execute(
            sa.select(invoices.c.id, invoices.c.number, invoices.c.customer_id,
                      invoices.c.amount_paid, invoices.c.settled_date, invoices.c.updated_at)
            .where(invoices.c.amount_paid > 0)
            .order_by(invoices.c.due_date, invoices.c.id)
        ):
            self.owed[row.customer_id].append(row)
            self.wanted[row.id] = Decimal(row.amount_paid)
        if not self.wanted:
            return
        on_account: list[tuple[Any, Decimal]] = []
        for payment in self.conn.execute(
            sa.select(payments.c.id, payments.c.customer_id, payments.c.invoice_id,
                      payments.c.amount, payments.c.paid_on)
            .order_by(payments.c.paid_on, payments.c.id)
        ):
            left = Decimal(payment.amount)
            if payment.invoice_id in self.wanted:
                left = self.apply(payment.id, payment.invoice_id, left, payment.paid_on)
            if left > 0:
                on_account.append((payment, left))
        for payment, unapplied in on_account:
            left = unapplied
            for invoice in self.owed.get(payment.customer_id, ()):
                if left <= 0:
                    break
                left = self.apply(payment.id, invoice.id, left, payment.paid_on)
        self._openings()
        for start in range(0, len(self.rows), 5000):
            self.conn.execute(self.allocations.insert(), self.rows[start : start + 5000])

    def _openings(self) -> None:
        """An opening payment for amount_paid no recorded payment explains."""
        for customer_invoices in self.owed.values():
            for invoice in customer_invoices:
                gap = self.wanted[invoice.id]
                if gap <= 0:
                    continue
                on = invoice.settled_date or invoice.updated_at.date()
                payment_id = self.conn.execute(
                    self.payments.insert().values(
                        external_ref=f"opening:{invoice.number}"[:80],
                        customer_id=invoice.customer_id, invoice_id=invoice.id, amount=gap,
                        paid_on=on, method="opening balance", created_at=self.now,
                    ).returning(self.payments.c.id)
                ).scalar_one()
                self.apply(payment_id, invoice.id, gap, on)
