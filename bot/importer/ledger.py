"""Money an import records: payments, their allocations to invoices, and customers' credit.

The rules (README, "The ledger"): payments are the record of money received; each part of a
payment applied to an invoice is an allocation dated the day it was applied; an invoice's
amount_paid is always the sum of its allocations; what a payment's allocations leave of it is
the customer's unapplied credit.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, func, select

from bot.db.sql import key_in
from bot.importer.base import IN_CHUNK, TABLES, BulkInsert, lookup_ids

ZERO = Decimal("0.00")
PAYMENTS = TABLES["payments"]
ALLOCATIONS = TABLES["payment_allocations"]
PAYMENT_COLUMNS = ("external_ref", "customer_id", "invoice_id", "amount", "paid_on", "method",
                   "created_at")
ALLOCATION_COLUMNS = ("payment_id", "invoice_id", "amount", "applied_on", "created_at")
MAX_REF = 80


def allocate(amount: Decimal, remaining: Sequence[Decimal]) -> tuple[list[Decimal], Decimal]:
    """Spread a payment over balances in order; (applied to each, left over)."""
    applied: list[Decimal] = []
    left = amount
    for balance in remaining:
        part = max(min(left, balance), ZERO)
        applied.append(part)
        left -= part
    return applied, left


def payment_ref(prefix: str, number: str, amount_paid: Decimal, repeat: int = 1) -> str:
    """The deterministic reference of the payment (prefix "inv") or reversal ("rev") that
    brought an invoice to `amount_paid`; `repeat` tells apart a second time it got there."""
    ref = f"{prefix}:{number}:{amount_paid}" + (f"#{repeat}" if repeat > 1 else "")
    if len(ref) <= MAX_REF:
        return ref
    return f"{prefix}:" + hashlib.sha256(ref.encode()).hexdigest()[:60]


def foreign_currency(code: str, ledger: str) -> str:
    """Why a row in another currency is refused."""
    return (f"{code} is not the ledger's currency {ledger} (COLLECTBOT_CURRENCY): "
            "amounts in unlike currencies are never added together")


@dataclass(slots=True)
class Credit:
    """A payment with money no invoice took yet."""

    payment_id: int
    paid_on: date
    left: Decimal


def unapplied_credit(conn: Connection, customer_ids: Iterable[int]) -> dict[int, list[Credit]]:
    """Each customer's payments that still hold unapplied money, oldest first."""
    allocated = (
        select(func.coalesce(func.sum(ALLOCATIONS.c.amount), 0))
        .where(ALLOCATIONS.c.payment_id == PAYMENTS.c.id)
        .scalar_subquery()
    )
    left = (PAYMENTS.c.amount - allocated).label("left")
    credits: dict[int, list[Credit]] = defaultdict(list)
    wanted = sorted(set(customer_ids))
    for start in range(0, len(wanted), IN_CHUNK):
        query = (
            select(PAYMENTS.c.customer_id, PAYMENTS.c.id, PAYMENTS.c.paid_on, left)
            .where(key_in(conn, PAYMENTS.c.customer_id, wanted[start : start + IN_CHUNK]),
                   PAYMENTS.c.amount > 0)
            .order_by(PAYMENTS.c.paid_on, PAYMENTS.c.id)
        )
        for customer_id, payment_id, paid_on, money in conn.execute(query).tuples():
            if money > 0:
                credits[customer_id].append(Credit(payment_id, paid_on, Decimal(money)))
    return credits


class LedgerWriter:
    """Payments and allocations one import records, written together a batch at a time.

    An allocation names its payment by id (a payment already recorded) or by the reference of
    a payment recorded in the same batch.
    """

    def __init__(self, conn: Connection, now: datetime) -> None:
        self.conn = conn
        self.now = now
        self._insert_payments = BulkInsert(conn, PAYMENTS, PAYMENT_COLUMNS)
        self._insert_allocations = BulkInsert(conn, ALLOCATIONS, ALLOCATION_COLUMNS)
        self._payments: list[tuple[Any, ...]] = []
        self._allocations: list[tuple[int | str, int, Decimal, date]] = []

    def pay(self, ref: str, customer_id: int, invoice_id: int | None, amount: Decimal,
            paid_on: date, *, method: str | None) -> None:
        """Record a payment (negative: a reversal) under a reference not yet used."""
        self._payments.append((ref, customer_id, invoice_id, amount, paid_on, method, self.now))

    def apply(self, payment: int | str, invoice_id: int, amount: Decimal, on: date) -> None:
        """Apply part of a payment (its id, or its reference in this batch) to an invoice."""
        self._allocations.append((payment, invoice_id, amount, on))

    def free_refs(self, refs: dict[str, tuple[str, str, Decimal]]) -> dict[str, str]:
        """For invoice payment refs wanted, a reference no payment has yet (a second rise to
        the same amount after a reversal gets "#2")."""
        taken = lookup_ids(self.conn, PAYMENTS.c.external_ref, PAYMENTS.c.id, refs)
        free = {ref: ref for ref in refs if ref not in taken}
        for ref in taken:
            prefix, number, amount = refs[ref]
            repeat = 2
            while True:
                candidate = payment_ref(prefix, number, amount, repeat)
                if not lookup_ids(self.conn, PAYMENTS.c.external_ref, PAYMENTS.c.id,
                                  [candidate]):
                    free[ref] = candidate
                    break
                repeat += 1
        return free

    def flush(self) -> int:
        """Write what this batch recorded; the number of payments written."""
        payments, allocations = self._payments, self._allocations
        self._payments, self._allocations = [], []
        self._insert_payments(payments)
        by_ref = {a[0] for a in allocations if isinstance(a[0], str)}
        ids = lookup_ids(self.conn, PAYMENTS.c.external_ref, PAYMENTS.c.id, by_ref)
        self._insert_allocations(
            (ids[payment] if isinstance(payment, str) else payment, invoice_id, amount, on,
             self.now)
            for payment, invoice_id, amount, on in allocations
        )
        return len(payments)
