"""The daily history equals `report --as-of` for every day, to the cent, on random ledgers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Base, Customer, Invoice, Payment, PaymentAllocation, TeamMember
from bot.domain.metrics import ActivityFacts, LedgerFacts, compute_metrics
from bot.domain.vocabulary import InvoiceStatus
from bot.services.metrics import ledger_facts_as_of
from bot.services.report import aging_report
from bot.services.snapshots import ledger_facts_series

START = date(2026, 1, 1)



@dataclass(frozen=True)
class Spec:
    customer: int
    issued: int
    terms: int
    cents: int
    void: bool
    # (day offset, percent of the amount; negative: a reversal) of each allocation
    allocations: list[tuple[int, int]]
    currency: str
    # A credit note: the amount negative, nothing allocated (the as-of rule holds it at 0).
    credit: bool = False


invoice = st.builds(
    Spec, customer=st.integers(0, 3), issued=st.integers(0, 200), terms=st.integers(0, 75),
    cents=st.integers(100, 200_000), void=st.sampled_from([False] * 9 + [True]),
    allocations=st.lists(st.tuples(st.integers(0, 260),
                                   st.sampled_from([10, 25, 50, 60, 100, -25])), max_size=3),
    currency=st.sampled_from(["USD"] * 9 + ["EUR"]),
    credit=st.sampled_from([False] * 9 + [True]),
)


def _clear(db: Database) -> None:
    with db.uow() as uow:
        for table in reversed(Base.metadata.sorted_tables):
            uow.session.execute(delete(table))
        uow.commit()


def _build(db: Database, invoices: list[Spec]) -> None:
    with db.uow() as uow:
        s = uow.session
        customers = four_customers(s)
        for n, spec in enumerate(invoices):
            issued = START + timedelta(days=spec.issued)
            amount = Decimal(spec.cents) / 100 * (-1 if spec.credit else 1)
            parts = [(START + timedelta(days=offset),
                      (amount * share / 100).quantize(Decimal("0.01")))
                     for offset, share in spec.allocations if not spec.credit]
            store_invoice(s, n, customers[spec.customer].id, issued=issued,
                          due=issued + timedelta(days=spec.terms), amount=amount, parts=parts,
                          currency=spec.currency, void=spec.void)
        uow.commit()


def four_customers(s: Session) -> list[Customer]:
    """C0 and C2 Ana's, C1 Ben's, C3 nobody's."""
    ana = TeamMember(slack_user_id="UANA", name="Ana")
    ben = TeamMember(slack_user_id="UBEN", name="Ben")
    s.add_all([ana, ben])
    s.flush()
    owners = [ana.id, ben.id, ana.id, None]
    customers = [Customer(external_ref=f"C{n}", name=f"C{n}", collector_id=owners[n])
                 for n in range(4)]
    s.add_all(customers)
    s.flush()
    return customers


def store_invoice(  # noqa: PLR0913 (an invoice's columns)
    s: Session, n: int, customer_id: int, *, issued: date, due: date, amount: Decimal,
    parts: list[tuple[date, Decimal]], currency: str, void: bool,
) -> None:
    """Invoice I{n}, paid by one payment P{n}-{k} per part, each allocated to it on its day;
    amount_paid is their sum (the ledger's invariant)."""
    row = Invoice(
        number=f"I{n}", customer_id=customer_id, issue_date=issued, due_date=due,
        amount=amount, amount_paid=sum((a for _, a in parts), Decimal(0)), currency=currency,
        status=InvoiceStatus.VOID if void else InvoiceStatus.OPEN,
    )
    s.add(row)
    s.flush()
    for k, (day, part) in enumerate(parts):
        payment = Payment(external_ref=f"P{n}-{k}", customer_id=customer_id, amount=part,
                          paid_on=day)
        s.add(payment)
        s.flush()
        s.add(PaymentAllocation(payment_id=payment.id, invoice_id=row.id, amount=part,
                                applied_on=day))


def _metrics(facts: LedgerFacts | None, period_days: int) -> object:
    return compute_metrics(facts or LedgerFacts(), ActivityFacts(), period_days=period_days)


@pytest.mark.slow
@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=14), period_days=st.sampled_from([1, 30, 45, 90]),
       window=st.tuples(st.integers(20, 220), st.integers(1, 40)),
       probes=st.lists(st.integers(0, 39), min_size=1, max_size=4))
def test_backfilled_day_equals_report_as_of(db: Database, invoices: list[Spec],
                                            period_days: int, window: tuple[int, int],
                                            probes: list[int]) -> None:
    first, days = window
    reversals = any(percent < 0 for spec in invoices for _, percent in spec.allocations
                    if not spec.credit)
    credits = any(spec.credit for spec in invoices)
    _clear(db)
    _build(db, invoices)
    lo = START + timedelta(days=first)
    hi = lo + timedelta(days=days - 1)
    with db.uow() as uow:
        series = ledger_facts_series(uow.session, lo, hi, period_days)
        for probe in {p % days for p in probes}:
            day = lo + timedelta(days=probe)
            direct = ledger_facts_as_of(uow.session, day, period_days)
            # The same AR as the aging report, which reads the ledger its own way.
            aging = aging_report(uow.session, day)
            assert sum((sum(f.ending.values(), Decimal(0)) for f in direct.values()),
                       Decimal(0)) == aging.total_ar
            swept = series[day]
            for scope in direct.keys() | swept.keys():
                expected = _metrics(direct.get(scope), period_days)
                assert _metrics(swept.get(scope), period_days) == expected, (day, scope)
                cei = expected.cei  # type: ignore[attr-defined]
                # CEI stays in 0-100 when AR only rises by sales: a reversal (a bounced
                # payment) raises AR with no sale, and CEI then honestly drops below 0; a
                # credit note is a negative sale.
                if not reversals and not credits:
                    assert cei is None or Decimal(0) <= cei <= Decimal(100)
