"""`ledger_facts_as_of` sums balances without a per-invoice aggregate (what is owed now plus what
was applied later, the clamp's corrections apart): on random ledgers, with reversals, negative
amounts and overpaid invoices, its facts equal the as-of rule applied invoice by invoice."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from bot.db import Database
from bot.db.models import Base, Customer, Invoice
from bot.domain.aging import BUCKETS, Bucket, bucket_for
from bot.domain.metrics import ROLLS, ZERO
from bot.domain.vocabulary import InvoiceStatus
from bot.services.ledger import open_balance_as_of
from bot.services.metrics import ROLL_DAYS, cents, ledger_facts_as_of
from tests.test_metrics_history import Spec, four_customers, store_invoice

START = date(2026, 1, 1)


invoice = st.builds(
    Spec, customer=st.integers(0, 3), issued=st.integers(0, 200), terms=st.integers(0, 75),
    # A few negative amounts (credit notes the import would refuse): the rule still applies.
    cents=st.one_of(st.integers(100, 200_000), st.integers(-50_000, 0)),
    void=st.sampled_from([False] * 9 + [True]),
    allocations=st.lists(st.tuples(st.integers(0, 260),
                                   st.sampled_from([10, 25, 50, 60, 100, -25, -100])),
                         max_size=4),
    currency=st.sampled_from(["USD"] * 9 + ["EUR"]),
)


def _rebuild(db: Database, invoices: list[Spec]) -> None:
    with db.uow() as uow:
        s = uow.session
        for table in reversed(Base.metadata.sorted_tables):
            s.execute(delete(table))
        customers = four_customers(s)
        for n, spec in enumerate(invoices):
            issued = START + timedelta(days=spec.issued)
            amount = Decimal(spec.cents) / 100
            parts = [(START + timedelta(days=offset),
                      (abs(amount) * share / 100).quantize(Decimal("0.01")))
                     for offset, share in spec.allocations]
            store_invoice(s, n, customers[spec.customer].id, issued=issued,
                          due=issued + timedelta(days=spec.terms), amount=amount, parts=parts,
                          currency=spec.currency, void=spec.void)
        uow.commit()


def _by_the_rule(db: Database, as_of: date, period_days: int
                 ) -> dict[int | None, dict[str, object]]:
    """The facts `ledger_facts_as_of` reads from the invoices, each invoice's balance on each
    day from the rule itself (`open_balance_as_of`, one subquery per invoice and day)."""
    start = as_of - timedelta(days=period_days)
    month_ago = as_of - timedelta(days=ROLL_DAYS)
    out: dict[int | None, dict[str, object]] = defaultdict(lambda: {
        "ending": dict.fromkeys(BUCKETS, ZERO), "beginning": dict.fromkeys(BUCKETS, ZERO),
        "month": dict.fromkeys(BUCKETS, ZERO), "rolled": dict.fromkeys(BUCKETS, ZERO),
        "still_open": ZERO})
    with db.uow() as uow:
        rows = uow.session.execute(
            select(Customer.collector_id, Invoice.issue_date, Invoice.due_date,
                   *[open_balance_as_of(day) for day in (as_of, start, month_ago)])
            .join(Customer, Customer.id == Invoice.customer_id)
            .where(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= as_of,
                   Invoice.currency == "USD")).tuples().all()
    for scope, issued, due, *balances in rows:
        end, begin, month = (cents(b) if issued <= day else ZERO
                             for b, day in zip(balances, (as_of, start, month_ago), strict=True))
        facts = out[scope]
        facts["ending"][bucket_for(due, as_of)] += end  # type: ignore[index]
        facts["beginning"][bucket_for(due, start)] += begin  # type: ignore[index]
        facts["month"][bucket_for(due, month_ago)] += month  # type: ignore[index]
        facts["rolled"][bucket_for(due, month_ago)] += end  # type: ignore[index]
        if due < start:
            facts["still_open"] += end  # type: ignore[operator]
    return out


@pytest.mark.slow
@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=12), as_of=st.integers(0, 280),
       period_days=st.sampled_from([1, 30, 90]))
def test_facts_equal_the_rule_invoice_by_invoice(db: Database, invoices: list[Spec],
                                                 as_of: int, period_days: int) -> None:
    _rebuild(db, invoices)
    day = START + timedelta(days=as_of)
    expected = _by_the_rule(db, day, period_days)
    with db.uow() as uow:
        facts = ledger_facts_as_of(uow.session, day, period_days)
    for scope in expected.keys() | {s for s, f in facts.items() if any(f.ending.values())}:
        got, want = facts[scope], expected[scope]
        assert dict(got.ending) == want["ending"], (scope, "ending")
        assert dict(got.beginning) == want["beginning"], (scope, "beginning")
        assert got.past_due_still_open == want["still_open"], (scope, "still open")
        for source, _ in ROLLS:
            assert got.roll_from[source] == want["month"][source], (scope, source)  # type: ignore[index]
            assert got.roll_to[source] == want["rolled"][source], (scope, source)  # type: ignore[index]


def test_a_reversal_and_an_overpaid_invoice_are_clamped(db: Database) -> None:
    """By hand: 100 owed, 100 applied, reversed, applied again; 50 owed, 80 applied."""
    _rebuild(db, [
        Spec(0, 0, 30, 10_000, False, [(10, 100), (40, -100), (70, 100)], "USD"),
        Spec(0, 0, 30, 5_000, False, [(10, 100), (20, 60)], "USD"),
        Spec(0, 0, 30, 5_000, False, [(10, -25)], "USD"),
    ])
    with db.uow() as uow:
        facts = ledger_facts_as_of(uow.session, START + timedelta(days=50), 30)
    [scope] = [s for s in facts if s is not None]
    # Day 50: the first is open again (100, 20 days past due); the second was paid 50 + 30 of
    # a 50 invoice (nil, not -30); the third had 12.50 taken back (its 50, not 62.50).
    assert facts[scope].ending[Bucket.DAYS_1_30] == Decimal("150.00")
    # Day 20 (the period's beginning): the first paid (nil), the second overpaid (nil), the
    # third 50 (current until day 30).
    assert facts[scope].beginning[Bucket.CURRENT] == Decimal("50.00")
    assert sum(facts[scope].beginning.values(), ZERO) == Decimal("50.00")
