"""The ledger's money as of a date, read from payments and their allocations.

One place for each question: an invoice's open balance on a day, a customer's unapplied credit
on a day, and the money received in a date range. Every figure as of a day counts only
allocations applied and payments received by then, so data dated later never moves it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Select,
    case,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from bot.db.models import (
    IRREGULAR_INVOICE,
    REVERSAL,
    Customer,
    Invoice,
    Payment,
    PaymentAllocation,
)
from bot.db.sql import inline_date, scan_key

ZERO = Decimal("0.00")


def open_balance_as_of(as_of: date) -> ColumnElement[Decimal]:
    """An invoice's open balance on a date: its amount less what was applied to it by then
    (equally: today's balance plus what was applied after the date)."""
    return balance_given_applied(applied_as_of(as_of))


def applied_as_of(as_of: Any) -> ColumnElement[Decimal]:
    """What was applied to an invoice by a date (a subquery correlated with `Invoice`)."""
    return (
        select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
        .where(PaymentAllocation.invoice_id == Invoice.id, PaymentAllocation.applied_on <= as_of)
        .scalar_subquery()
    )


def balance_given_applied(applied: Any) -> ColumnElement[Decimal]:
    """An invoice's balance once `applied` has been applied to it, within 0 and its amount."""
    balance = Invoice.amount - applied
    return case(
        (balance > Invoice.amount, Invoice.amount),
        (balance < 0, literal(ZERO)),
        else_=balance,
    )


def owed_now_and_applied_after(
    dialect: Dialect, since: date, scope: ColumnElement[bool],
    columns: Callable[[Any, Any], Sequence[ColumnElement[Any]]],
) -> CompoundSelect[Any]:
    """Rows whose sums give invoices' balances on any day from `since` on, without grouping
    allocations per invoice.

    An invoice's amount_paid is the sum of its allocations, so its amount less what was applied
    by a day is what it owes now plus what was applied after the day: one row per invoice in
    `scope` that owes something now, `columns(amount owed now, None)`, and one per allocation
    applied after `since` to an invoice in scope, `columns(amount applied, applied_on)`. Exact
    for the invoices the rule's clamp leaves alone: not `clamped_invoices()`."""
    owed_now = select(*columns(Invoice.amount - Invoice.amount_paid, None)).where(
        scope, Invoice.amount_paid != Invoice.amount)
    applied_on = PaymentAllocation.applied_on
    applied_after = (
        select(*columns(PaymentAllocation.amount, applied_on))
        .select_from(PaymentAllocation)
        .join(Invoice, Invoice.id == scan_key(dialect, PaymentAllocation.invoice_id))
        .where(applied_on > inline_date(since), scope)
    )
    return union_all(owed_now, applied_after)


def clamped_invoices() -> CompoundSelect[Any]:
    """The ids of the invoices whose balance on a day the rule's clamp may change (none that
    the import builds): with positive allocations summing to at most the amount, what was
    applied by any day is within them, so only an invoice of a negative amount or amount_paid
    outside [0, amount], or one with a reversal among its allocations, can have a balance
    other than amount less applied (each found through its partial index)."""
    return union_all(select(Invoice.id).where(IRREGULAR_INVOICE),
                     select(PaymentAllocation.invoice_id).where(REVERSAL))


def credit_by_collector(session: Session, as_of: date) -> dict[int | None, Decimal]:
    """Customers' unapplied credit on a date (payments received by then less what was applied
    of them by then), summed by the customers' collector (None: unassigned)."""
    received = (
        select(Customer.collector_id, func.sum(Payment.amount))
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Payment.paid_on <= as_of)
        .group_by(Customer.collector_id)
    )
    applied = (
        select(Customer.collector_id, func.sum(PaymentAllocation.amount))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .join(Customer, Customer.id == Payment.customer_id)
        .where(Payment.paid_on <= as_of, PaymentAllocation.applied_on <= as_of)
        .group_by(Customer.collector_id)
    )
    credit: dict[int | None, Decimal] = {}
    for collector_id, amount in session.execute(received).tuples():
        credit[collector_id] = Decimal(amount)
    for collector_id, amount in session.execute(applied).tuples():
        credit[collector_id] = credit.get(collector_id, ZERO) - Decimal(amount)
    return {k: v.quantize(Decimal("0.01")) for k, v in credit.items() if v}


def customer_credit(session: Session, customer_id: int) -> Decimal:
    """One customer's unapplied credit now: payments less what invoices took of them."""
    received = session.scalar(
        select(func.coalesce(func.sum(Payment.amount), 0)).where(
            Payment.customer_id == customer_id)
    )
    applied = session.scalar(
        select(func.coalesce(func.sum(PaymentAllocation.amount), 0))
        .join(Payment, Payment.id == PaymentAllocation.payment_id)
        .where(Payment.customer_id == customer_id)
    )
    return (Decimal(received or 0) - Decimal(applied or 0)).quantize(Decimal("0.01"))


def payments_received(
    start: date | None = None, end: date | None = None
) -> Select[tuple[int, date, Decimal]]:
    """(customer, date received, amount) of every payment received from `start` to `end`
    inclusive (either open): the money in, a reversal counting negative. Add a filter on
    `Payment.customer_id` to narrow it."""
    query = select(Payment.customer_id, Payment.paid_on, Payment.amount)
    if start is not None:
        query = query.where(Payment.paid_on >= start)
    if end is not None:
        query = query.where(Payment.paid_on <= end)
    return query
