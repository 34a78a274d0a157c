"""Invoice import: upsert by number, create customers it names, record what was paid."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from functools import partial
from typing import Any, NamedTuple

from sqlalchemy import bindparam, select, update

from bot.db.sql import key_in
from bot.domain.ledger_dates import implausible, ledger_window
from bot.domain.vocabulary import CustomerStatus, InvoiceStatus
from bot.importer.base import (
    IN_CHUNK,
    TABLES,
    BulkInsert,
    Cells,
    KindImporter,
    Pending,
    Rejection,
    TouchedIds,
    drop_repeats,
    lookup_ids,
    must,
)
from bot.importer.ledger import (
    LedgerWriter,
    foreign_currency,
    payment_ref,
    unapplied_credit,
)
from bot.importer.source import Column
from bot.importer.values import (
    CellError,
    parse_bool,
    parse_choice,
    parse_date,
    parse_key,
    parse_text,
)

ZERO = Decimal("0.00")
INVOICES = TABLES["invoices"]
CUSTOMERS = TABLES["customers"]
STATUSES = frozenset({"open", "paid", "void"})
COMPARED = (
    "customer_id", "issue_date", "due_date", "amount", "amount_paid", "currency", "status",
    "settled_date", "disputed",
)
INSERTED = ("number", *COMPARED, "created_at", "updated_at")


class InvoiceRow(NamedTuple):
    number: str
    customer_ref: str
    customer_name: str | None
    issue_date: date
    due_date: date
    amount: Decimal
    amount_paid: Decimal
    currency: str
    settled_date: date | None
    disputed: bool
    void: bool


def _currency(text: str) -> str:
    return parse_text(text, limit=3).upper()


def _check_amounts(cells: Cells, amount: Decimal | None, amount_paid: Decimal | None) -> None:
    if amount is not None and amount <= 0:
        cells.problem("amount", f"must be positive: {amount}")
    if amount_paid is not None and amount_paid < 0:
        cells.problem("amount_paid", f"must not be negative: {amount_paid}")
    if amount and amount_paid and amount_paid > amount > 0:
        cells.problem("amount_paid", f"{amount_paid} is more than the amount {amount}")


def _check_settlement(cells: Cells, amount: Decimal, paid: Decimal, settled_date: date | None,
                      status: str | None) -> None:
    """The settled date and the status agree with what was paid."""
    if settled_date is not None and paid < amount and status != "void":
        cells.problem("settled_date", f"given, but amount_paid {paid} < amount {amount}")
    if status == "paid" and paid < amount:
        cells.problem("status", f"paid, but amount_paid {paid} < amount {amount}")
    if status == "open" and paid >= amount:
        cells.problem("status", f"open, but amount_paid {paid} covers the amount")


class PaidChange(NamedTuple):
    """An invoice whose amount_paid this import changes, and the day the change is dated."""

    number: str
    customer_id: int
    amount_paid: Decimal
    delta: Decimal
    on: date


class InvoiceImporter(KindImporter[InvoiceRow]):
    kind = "invoices"
    columns = (
        Column("number", True, "invoice number, unique; the key for re-imports"),
        Column("customer_ref", True, "the customer's external_ref; created if new"),
        Column("customer_name", False, "name for a customer created by this import"),
        Column("issue_date", True, "date issued (ISO or --date-format)"),
        Column("due_date", True, "date due, on or after issue_date"),
        Column("amount", True, "invoice total, positive ($1,234.50 and 1 234,50 € read)"),
        Column("amount_paid", False, "paid so far (default 0); a rise is recorded as a payment"),
        Column("currency", False, "ISO code; must be the ledger's (COLLECTBOT_CURRENCY)"),
        Column("settled_date", False, "date paid in full; means amount_paid = amount if blank"),
        Column("disputed", False, "yes/no, default no"),
        Column("status", False, "open, paid or void (paid and open are checked against amounts)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.customer_ids: dict[str, int] = {}
        conn = self.context.conn
        self.touched = TouchedIds(conn, INVOICES)
        self._insert_invoices = BulkInsert(conn, INVOICES, INSERTED)
        self._insert_customers = BulkInsert(
            conn, CUSTOMERS,
            ("external_ref", "name", "tier", "status", "created_at", "updated_at"),
        )
        # Parsers bound once: parse() runs for every row of files with millions.
        self._ref = partial(parse_key, limit=64)
        self._name = partial(parse_text, limit=200)
        self._date = partial(parse_date, date_format=self.context.date_format)
        self._status = partial(parse_choice, choices=STATUSES)
        self.ledger = LedgerWriter(conn, self.context.now)
        self._first_date, self._last_date = ledger_window(self.context.today)

    def parse(self, cells: Cells) -> InvoiceRow:
        clean = self.parse_clean(cells.values)
        return clean if clean is not None else self.parse_careful(cells)

    def parse_clean(self, values: Mapping[str, str]) -> InvoiceRow | None:
        """The common row (no settlement or status, every cell good) in one pass, else None.

        Millions of rows take this path; anything unusual goes to parse_careful, which applies
        every rule and names every problem. Both give the same row for a row both accept.
        """
        get = values.get
        if get("settled_date", "").strip() or get("status", "").strip():
            return None
        try:
            number = self._ref(values["number"])
            customer_ref = self._ref(values["customer_ref"])
            issue_date = self._date(values["issue_date"])
            due_date = self._date(values["due_date"])
            amount = self.context.amounts(values["amount"])
            text = get("customer_name", "")
            customer_name = self._name(text) if text.strip() else None
            text = get("amount_paid", "")
            paid = self.context.amounts(text) if text.strip() else ZERO
            text = get("currency", "")
            currency = _currency(text) if text.strip() else self.context.currency
            text = get("disputed", "")
            disputed = parse_bool(text) if text.strip() else False
        except (KeyError, CellError):
            return None
        first, last = self._first_date, self._last_date
        if not (first <= issue_date <= due_date <= last):
            return None
        if (not number or not customer_ref or amount <= 0
                or paid < 0 or paid > amount or currency != self.context.currency):
            return None
        return InvoiceRow(number, customer_ref, customer_name, issue_date, due_date, amount,
                          paid, currency, None, disputed, False)

    def parse_careful(self, cells: Cells) -> InvoiceRow:
        """Every rule, every problem named (RowInvalid)."""
        ref, name, day = self._ref, self._name, self._date
        number = cells.required("number", ref)
        customer_ref = cells.required("customer_ref", ref)
        customer_name = cells.optional("customer_name", name)
        issue_date = cells.required("issue_date", day)
        due_date = cells.required("due_date", day)
        amount = cells.required("amount", self.context.amounts)
        amount_paid = cells.optional("amount_paid", self.context.amounts)
        currency = cells.optional("currency", _currency)
        settled_date = cells.optional("settled_date", day)
        disputed = cells.optional("disputed", parse_bool)
        status = cells.optional("status", self._status)
        self._check_currency(cells, currency)
        self._check_dates(cells, issue_date, due_date, settled_date)
        _check_amounts(cells, amount, amount_paid)
        cells.check()
        amount = must(amount)
        if amount_paid is None and (settled_date is not None or status == "paid"):
            amount_paid = amount
        paid = amount_paid or ZERO
        _check_settlement(cells, amount, paid, settled_date, status)
        cells.check()
        return InvoiceRow(
            number=must(number),
            customer_ref=must(customer_ref),
            customer_name=customer_name,
            issue_date=must(issue_date),
            due_date=must(due_date),
            amount=amount,
            amount_paid=paid,
            currency=currency or self.context.currency,
            settled_date=settled_date,
            disputed=bool(disputed),
            void=status == "void",
        )

    def _check_currency(self, cells: Cells, currency: str | None) -> None:
        if currency is not None and (len(currency) != 3 or not currency.isalpha()):
            cells.problem("currency", f"not a 3-letter currency code: {currency!r}")
        elif currency is not None and currency != self.context.currency:
            cells.problem("currency", foreign_currency(currency, self.context.currency))

    def _check_dates(self, cells: Cells, issue_date: date | None, due_date: date | None,
                     settled_date: date | None) -> None:
        today = self.context.today
        for field, when, received in (("issue_date", issue_date, False),
                                      ("due_date", due_date, False),
                                      ("settled_date", settled_date, True)):
            problem = implausible(when, today, received=received) if when else None
            if problem:
                cells.problem(field, problem)
        if issue_date and due_date and due_date < issue_date:
            cells.problem("due_date", f"due {due_date} is before issue date {issue_date}")

    def _resolve_customers(self, rows: list[Pending[InvoiceRow]]) -> None:
        conn = self.context.conn
        wanted = {p.row.customer_ref for p in rows} - self.customer_ids.keys()
        if not wanted:
            return
        found = lookup_ids(conn, CUSTOMERS.c.external_ref, CUSTOMERS.c.id, wanted)
        self.customer_ids.update(found)
        names: dict[str, str] = {}
        for p in rows:
            ref = p.row.customer_ref
            if ref not in found and ref in wanted:
                names.setdefault(ref, p.row.customer_name or ref)
        if not names:
            return
        now = self.context.now
        self._insert_customers(
            (ref, name, "standard", CustomerStatus.ACTIVE, now, now)
            for ref, name in names.items()
        )
        self.customer_ids.update(
            lookup_ids(conn, CUSTOMERS.c.external_ref, CUSTOMERS.c.id, names)
        )
        self.context.report.customers_created += len(names)

    def write(self, batch: list[Pending[InvoiceRow]]) -> list[Rejection]:
        report, now = self.context.report, self.context.now
        rows, rejected = drop_repeats(batch, lambda r: r.number, "number", "invoice")
        self._resolve_customers(rows)
        existing = self._existing([p.row.number for p in rows])
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        changes: list[PaidChange] = []
        for p in rows:
            row = p.row
            current = existing.get(row.number)
            if current is not None and not self.touched.add(current.id):
                rejected.append(Rejection(p.line, p.cells, "number",
                                          f"invoice {row.number} appears earlier in the file"))
                continue
            recorded = current.amount_paid if current is not None else ZERO
            paid = self._paid(p, recorded)
            if isinstance(paid, Rejection):
                rejected.append(paid)
                continue
            values, change = self._values(row, paid, recorded, current)
            if change is not None:
                changes.append(change)
            if current is None:
                inserts.append((row.number, *values, now, now))
                report.counts.created += 1
            elif values == tuple(current[2:]):
                report.counts.unchanged += 1
            else:
                updates.append({**dict(zip(COMPARED, values, strict=True)),
                                "b_id": current.id, "updated_at": now})
                report.counts.updated += 1
        self._store(inserts, updates, changes, existing)
        return rejected

    def _existing(self, numbers: list[str]) -> dict[str, Any]:
        """The stored invoices with these numbers (id, number, the COMPARED columns)."""
        conn = self.context.conn
        existing: dict[str, Any] = {}
        for start in range(0, len(numbers), IN_CHUNK):
            query = select(INVOICES.c.id, INVOICES.c.number, *(INVOICES.c[c] for c in COMPARED))
            query = query.where(key_in(conn, INVOICES.c.number, numbers[start : start + IN_CHUNK]))
            existing.update((r.number, r) for r in conn.execute(query))
        return existing

    def _values(
        self, row: InvoiceRow, paid: Decimal, recorded: Decimal, current: Any
    ) -> tuple[tuple[Any, ...], PaidChange | None]:
        """The invoice's COMPARED values as this row leaves it, and its change of amount paid."""
        today = self.context.today
        if row.void:
            status, settled = InvoiceStatus.VOID, row.settled_date
        elif paid >= row.amount:
            kept = current.settled_date if current is not None else None
            status, settled = InvoiceStatus.PAID, row.settled_date or kept or today
        else:
            status, settled = InvoiceStatus.OPEN, None
        if status is InvoiceStatus.PAID and (
            current is None or current.status is not InvoiceStatus.PAID
        ):
            self.context.report.invoices_settled += 1
        customer_id = self.customer_ids[row.customer_ref]
        values = (customer_id, row.issue_date, row.due_date, row.amount, paid,
                  row.currency, status, settled, row.disputed)  # COMPARED order
        if paid == recorded:
            return values, None
        # A rise is dated the settled date when the export has one, else today; a
        # reversal today: either way no figure as of an earlier day moves.
        return values, PaidChange(row.number, customer_id, paid, paid - recorded,
                                  (settled or today) if paid > recorded else today)

    def _store(self, inserts: list[tuple[Any, ...]], updates: list[dict[str, Any]],
               changes: list[PaidChange], existing: dict[str, Any]) -> None:
        conn = self.context.conn
        self._insert_invoices(inserts)
        if updates:
            conn.execute(update(INVOICES).where(INVOICES.c.id == bindparam("b_id")), updates)
        if changes:
            invoice_ids = {n: r.id for n, r in existing.items()}
            new = [c.number for c in changes if c.number not in invoice_ids]
            invoice_ids.update(lookup_ids(conn, INVOICES.c.number, INVOICES.c.id, new))
            self._record_payments(changes, invoice_ids)

    def _paid(self, p: Pending[InvoiceRow], recorded: Decimal) -> Decimal | Rejection:
        """The amount paid to keep: the export's, unless it is below what the ledger recorded.

        Payments are the record of money received: an export showing less paid keeps the
        ledger's figure (and the summary lists it) unless a reversal is asked for.
        """
        row = p.row
        if row.amount_paid >= recorded or self.context.reverse_payments:
            return row.amount_paid
        if recorded > row.amount:
            return Rejection(
                p.line, p.cells, "amount",
                f"invoice {row.number}: the ledger has {recorded} in payments on it, more "
                f"than the amount {row.amount}; to reverse payments (a bounced cheque) "
                "import with --reverse-payments")
        self.context.report.note_kept_payments(row.number, row.amount_paid, recorded)
        return recorded

    def _record_payments(self, changes: list[PaidChange], invoice_ids: dict[str, int]) -> None:
        """Allocations for every change of amount_paid: a rise takes the customer's unapplied
        credit first, and what is left is a payment of its own; a fall is a reversal."""
        report = self.context.report
        rises = [c for c in changes if c.delta > 0]
        credits = unapplied_credit(self.context.conn, {c.customer_id for c in rises})
        wanted = {
            payment_ref("inv" if c.delta > 0 else "rev", c.number, c.amount_paid): (
                "inv" if c.delta > 0 else "rev", c.number, c.amount_paid)
            for c in changes
        }
        refs = self.ledger.free_refs(wanted)
        for change in changes:
            invoice_id = invoice_ids[change.number]
            needed = change.delta
            for credit in credits.get(change.customer_id, ()):
                part = min(credit.left, needed)
                if part <= 0:
                    continue
                credit.left -= part
                needed -= part
                report.credit_applied += part
                self.ledger.apply(credit.payment_id, invoice_id, part,
                                  max(credit.paid_on, change.on))
            if needed == 0:
                continue
            if needed < 0:
                report.payments_reversed += 1
                report.reversed_amount -= needed
            ref = refs[payment_ref("inv" if change.delta > 0 else "rev", change.number,
                                   change.amount_paid)]
            method = "invoice import" if needed > 0 else "reversal"
            self.ledger.pay(ref, change.customer_id, invoice_id, needed, change.on, method=method)
            self.ledger.apply(ref, invoice_id, needed, change.on)
        report.payments_recorded += self.ledger.flush()
        self.context.affected_customers.update(c.customer_id for c in changes)
