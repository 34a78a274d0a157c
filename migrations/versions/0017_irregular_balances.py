"""partial indexes: invoices the as-of rule may clamp, allocations that reverse a payment

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 06:15:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IRREGULAR_INVOICE = "amount < 0 OR amount_paid < 0 OR amount_paid > amount"
REVERSAL = "amount < 0"


def upgrade() -> None:
    op.create_index("ix_invoices_irregular", "invoices", ["id"],
                    sqlite_where=sa.text(IRREGULAR_INVOICE),
                    postgresql_where=sa.text(IRREGULAR_INVOICE))
    op.create_index("ix_payment_allocations_reversals", "payment_allocations", ["invoice_id"],
                    sqlite_where=sa.text(REVERSAL), postgresql_where=sa.text(REVERSAL))


def downgrade() -> None:
    op.drop_index("ix_payment_allocations_reversals", table_name="payment_allocations")
    op.drop_index("ix_invoices_irregular", table_name="invoices")
