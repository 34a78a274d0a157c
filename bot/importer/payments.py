"""Payment import: record each payment once and apply it to its invoice or the oldest open ones."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import bindparam, select, update

from bot.db.sql import key_in
from bot.domain.ledger_dates import implausible
from bot.domain.vocabulary import InvoiceStatus
from bot.importer.base import (
    IN_CHUNK,
    TABLES,
    Cells,
    KindImporter,
    Pending,
    Rejection,
    TouchedIds,
    drop_repeats,
    lookup_ids,
    must,
)
from bot.importer.ledger import LedgerWriter, allocate, foreign_currency
from bot.importer.source import Column
from bot.importer.values import parse_date, parse_key, parse_text

ZERO = Decimal("0.00")
PAYMENTS = TABLES["payments"]
INVOICES = TABLES["invoices"]
CUSTOMERS = TABLES["customers"]


@dataclass(frozen=True, slots=True)
class PaymentRow:
    external_ref: str
    customer_ref: str | None
    invoice_number: str | None
    amount: Decimal
    paid_on: date
    method: str | None


@dataclass(slots=True)
class InvoiceBalance:
    """An invoice as payments change it during one batch."""

    id: int
    number: str
    customer_id: int
    amount: Decimal
    amount_paid: Decimal
    status: InvoiceStatus
    settled_date: date | None
    changed: bool = False

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.amount_paid, ZERO)


class PaymentImporter(KindImporter[PaymentRow]):
    kind = "payments"
    columns = (
        Column("external_ref", True, "the payment's id in your ledger; recorded once"),
        Column("customer_ref", False, "the customer's external_ref (or give invoice_number)"),
        Column("invoice_number", False, "invoice paid; blank: the customer's oldest open ones"),
        Column("amount", True, "amount received, positive"),
        Column("paid_on", True, "date received (ISO or --date-format)"),
        Column("method", False, "e.g. ach, check, card"),
        Column("currency", False, "ISO code; must be the ledger's (COLLECTBOT_CURRENCY)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched = TouchedIds(self.context.conn, PAYMENTS)
        self.ledger = LedgerWriter(self.context.conn, self.context.now)
        self.customer_ids: dict[str, int] = {}
        self.credited: set[int] = set()  # customers this import left with unapplied credit

    def parse(self, cells: Cells) -> PaymentRow:
        fmt = self.context.date_format
        ref = cells.required("external_ref", lambda t: parse_key(t, limit=80))
        customer_ref = cells.optional("customer_ref", lambda t: parse_key(t, limit=64))
        invoice_number = cells.optional("invoice_number", lambda t: parse_key(t, limit=64))
        amount = cells.required("amount", self.context.amounts)
        paid_on = cells.required("paid_on", lambda t: parse_date(t, fmt))
        method = cells.optional("method", lambda t: parse_text(t, limit=30))
        currency = cells.optional("currency", lambda t: parse_text(t, limit=3).upper())
        if currency is not None and currency != self.context.currency:
            cells.problem("currency", foreign_currency(currency, self.context.currency))
        if customer_ref is None and invoice_number is None and not cells.problems:
            cells.problem("customer_ref", "missing (give customer_ref or invoice_number)")
        if amount is not None and amount <= 0:
            cells.problem("amount", f"must be positive: {amount}")
        problem = implausible(paid_on, self.context.today, received=True) if paid_on else None
        if problem:
            cells.problem("paid_on", problem)
        cells.check()
        return PaymentRow(must(ref), customer_ref, invoice_number, must(amount), must(paid_on),
                          method)

    def _load(self, rows: list[Pending[PaymentRow]]) -> tuple[dict[str, Any],
                                                              dict[str, InvoiceBalance]]:
        conn = self.context.conn
        refs = [p.row.external_ref for p in rows]
        existing: dict[str, Any] = {}
        numbers = sorted({p.row.invoice_number for p in rows if p.row.invoice_number})
        named: dict[str, InvoiceBalance] = {}
        for start in range(0, max(len(refs), len(numbers)), IN_CHUNK):
            chunk = refs[start : start + IN_CHUNK]
            if chunk:
                query = select(PAYMENTS).where(key_in(conn, PAYMENTS.c.external_ref, chunk))
                existing.update((r.external_ref, r) for r in conn.execute(query))
            chunk = numbers[start : start + IN_CHUNK]
            if chunk:
                query = select(
                    INVOICES.c.id, INVOICES.c.number, INVOICES.c.customer_id, INVOICES.c.amount,
                    INVOICES.c.amount_paid, INVOICES.c.status, INVOICES.c.settled_date,
                ).where(key_in(conn, INVOICES.c.number, chunk))
                named.update((r.number, InvoiceBalance(*r)) for r in conn.execute(query))
        wanted = {p.row.customer_ref for p in rows if p.row.customer_ref} - self.customer_ids.keys()
        self.customer_ids.update(lookup_ids(conn, CUSTOMERS.c.external_ref, CUSTOMERS.c.id, wanted))
        return existing, named

    def _open_invoices(
        self, customer_ids: set[int], balances: dict[int, InvoiceBalance]
    ) -> dict[int, list[InvoiceBalance]]:
        """Each customer's open invoices, oldest due first, sharing state with `balances`."""
        by_customer: dict[int, list[InvoiceBalance]] = defaultdict(list)
        wanted = sorted(customer_ids)
        for start in range(0, len(wanted), IN_CHUNK):
            query = (
                select(
                    INVOICES.c.id, INVOICES.c.number, INVOICES.c.customer_id, INVOICES.c.amount,
                    INVOICES.c.amount_paid, INVOICES.c.status, INVOICES.c.settled_date,
                )
                .where(key_in(self.context.conn, INVOICES.c.customer_id,
                              wanted[start : start + IN_CHUNK]),
                       INVOICES.c.status == InvoiceStatus.OPEN)
                .order_by(INVOICES.c.due_date, INVOICES.c.id)
            )
            for r in self.context.conn.execute(query):
                balance = balances.setdefault(r.id, InvoiceBalance(*r))
                by_customer[r.customer_id].append(balance)
        return by_customer

    def _customer_of(self, row: PaymentRow, named: dict[str, InvoiceBalance]) -> int | str:
        invoice = named.get(row.invoice_number) if row.invoice_number else None
        if row.invoice_number and invoice is None:
            return f"invoice {row.invoice_number} not found"
        customer_id = self.customer_ids.get(row.customer_ref) if row.customer_ref else None
        if row.customer_ref and customer_id is None:
            return f"customer {row.customer_ref} not found"
        if invoice is not None:
            if customer_id is not None and customer_id != invoice.customer_id:
                return f"invoice {invoice.number} belongs to another customer"
            if invoice.status is InvoiceStatus.VOID:
                return f"invoice {invoice.number} is void"
            return invoice.customer_id
        return must(customer_id)

    def write(self, batch: list[Pending[PaymentRow]]) -> list[Rejection]:
        conn, report, now = self.context.conn, self.context.report, self.context.now
        rows, rejected = drop_repeats(batch, lambda r: r.external_ref, "external_ref", "payment")
        existing, named = self._load(rows)
        balances = {b.id: b for b in named.values()}
        resolved: list[tuple[Pending[PaymentRow], int]] = []
        for p in rows:
            customer = self._customer_of(p.row, named)
            field = "invoice_number" if p.row.invoice_number else "customer_ref"
            if isinstance(customer, str):
                rejected.append(Rejection(p.line, p.cells, field, customer))
            else:
                resolved.append((p, customer))
        spread_over = {c for p, c in resolved
                       if p.row.invoice_number is None and p.row.external_ref not in existing}
        open_invoices = self._open_invoices(spread_over, balances) if spread_over else {}

        method_updates: list[dict[str, Any]] = []
        for p, customer_id in resolved:
            row = p.row
            current = existing.get(row.external_ref)
            if current is not None:
                refusal = self._compare(row, customer_id, current, named)
                if refusal:
                    rejected.append(Rejection(p.line, p.cells, "external_ref", refusal))
                elif row.method is not None and row.method != current.method:
                    method_updates.append({"b_id": current.id, "method": row.method})
                    report.counts.updated += 1
                else:
                    report.counts.unchanged += 1
                continue
            targets = ([named[row.invoice_number]] if row.invoice_number
                       else open_invoices.get(customer_id, []))
            self._record(row, customer_id, targets)
        report.payments_recorded += self.ledger.flush()
        report.credit_customers = len(self.credited)
        if method_updates:
            conn.execute(update(PAYMENTS).where(PAYMENTS.c.id == bindparam("b_id")),
                         method_updates)
        changed = [
            {"b_id": b.id, "amount_paid": b.amount_paid, "status": b.status,
             "settled_date": b.settled_date, "updated_at": now}
            for b in balances.values() if b.changed
        ]
        if changed:
            conn.execute(update(INVOICES).where(INVOICES.c.id == bindparam("b_id")), changed)
        return rejected

    def _record(self, row: PaymentRow, customer_id: int, targets: list[InvoiceBalance]) -> None:
        """A new payment, allocated over `targets` in order; what they cannot take is credit."""
        report = self.context.report
        applied, left = allocate(row.amount, [t.remaining for t in targets])
        touched = [t for t, part in zip(targets, applied, strict=True) if part > 0]
        invoice_id = (targets[0].id if row.invoice_number
                      else touched[0].id if len(touched) == 1 else None)
        self.ledger.pay(row.external_ref, customer_id, invoice_id, row.amount, row.paid_on,
                        method=row.method)
        for target, part in zip(targets, applied, strict=True):
            if part <= 0:
                continue
            self.ledger.apply(row.external_ref, target.id, part, row.paid_on)
            target.amount_paid += part
            target.changed = True
            if target.remaining == 0 and target.status is InvoiceStatus.OPEN:
                target.status, target.settled_date = InvoiceStatus.PAID, row.paid_on
                report.invoices_settled += 1
        if left > 0:
            report.unapplied += left
            self.credited.add(customer_id)
        self.context.affected_customers.add(customer_id)
        report.counts.created += 1

    def _compare(
        self, row: PaymentRow, customer_id: int, current: Any, named: dict[str, InvoiceBalance]
    ) -> str | None:
        """Why a row cannot stand for the payment already recorded under its reference."""
        if not self.touched.add(current.id):
            return f"payment {row.external_ref} appears earlier in the file"
        same = (
            current.customer_id == customer_id
            and current.amount == row.amount
            and current.paid_on == row.paid_on
            and (row.invoice_number is None
                 or current.invoice_id == named[row.invoice_number].id)
        )
        if same:
            return None
        return (
            f"payment {row.external_ref} is already recorded ({current.amount} on "
            f"{current.paid_on}); a recorded payment is not changed by import"
        )
