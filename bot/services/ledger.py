"""The ledger's money as of a date, read from payments and their allocations.

One place for each question: an invoice's open balance on a day, a customer's unapplied credit
on a day, and the money received in a date range. Every figure as of a day counts only
allocations applied and payments received by then, so data dated later never moves it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, literal, select
from sqlalchemy.orm import Session

from bot.db.models import Customer, Invoice, Payment, PaymentAllocation

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
