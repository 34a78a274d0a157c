"""The escalation job's set-based facts equal a plain reading of each account, on both engines.

`load_facts` reads the whole book in a few aggregates, timestamps and sums as the driver gives
them, joins in SQL and in dictionaries; here every account is read on its own through the ORM
and each fact computed the obvious way, on a random ledger with collectors in three zones (one
already on tomorrow), unassigned accounts, every customer status, disputed and partly paid
invoices, reversals, calls of every outcome, promises and disputes.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import (
    ContactAttempt,
    Customer,
    Dispute,
    Invoice,
    Payment,
    PromiseToPay,
    TeamMember,
)
from bot.domain.calendar import local_date
from bot.domain.escalations import EscalationFacts
from bot.domain.vocabulary import (
    CALL_OUTCOMES,
    RIGHT_PARTY_OUTCOMES,
    CustomerStatus,
    DisputeStatus,
    InvoiceStatus,
    Outcome,
    PromiseStatus,
    Role,
)
from bot.services.escalation_facts import Calendar, load_facts
from bot.services.escalations import team_calendar

# 20:00 UTC: already Tuesday in Tokyo, still Monday in New York and Los Angeles.
NOW = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
ZONES = ("America/New_York", "Asia/Tokyo", "America/Los_Angeles")
WINDOW = 60


def _ledger(db: Database, seed: int) -> list[int]:
    """A random book; returns the customer ids."""
    rng = random.Random(seed)

    def moment(days: int) -> datetime:
        return NOW - timedelta(days=rng.randrange(days), minutes=rng.randrange(24 * 60))

    with db.uow() as uow:
        session = uow.session
        members = [TeamMember(slack_user_id=f"U{i}", name=f"C{i}", role=Role.COLLECTOR,
                              timezone=zone) for i, zone in enumerate(ZONES)]
        session.add_all(members)
        session.flush()
        statuses = list(CustomerStatus)
        customers = [
            Customer(external_ref=f"R{n}", name=f"Customer {n}", tier=rng.choice(["key", "small"]),
                     status=CustomerStatus.ACTIVE if n % 4 else rng.choice(statuses),
                     collector_id=None if n % 7 == 0 else rng.choice(members).id)
            for n in range(90)
        ]
        session.add_all(customers)
        session.flush()
        for n, customer in enumerate(customers):
            for k in range(rng.randrange(4)):
                amount = Decimal(rng.randrange(1_000, 9_000_000)).scaleb(-2)
                paid = rng.choice([Decimal(0), Decimal(0), (amount / 3).quantize(Decimal("0.01")),
                                   amount])
                session.add(Invoice(
                    number=f"I{n}-{k}", customer_id=customer.id,
                    issue_date=NOW.date() - timedelta(days=200),
                    due_date=NOW.date() + timedelta(days=rng.choice([-150, -90, -40, -8, -1, 0, 1,
                                                                     5])),
                    amount=amount, amount_paid=paid, disputed=rng.random() < 0.15,
                    status=InvoiceStatus.PAID if paid == amount else rng.choice(
                        [InvoiceStatus.OPEN] * 5 + [InvoiceStatus.VOID])))
            for k in range(rng.randrange(3)):
                session.add(Payment(external_ref=f"P{n}-{k}", customer_id=customer.id,
                                    amount=Decimal(rng.choice([250, 40, -40])),
                                    paid_on=moment(40).date()))
            for _ in range(rng.randrange(7)):
                session.add(ContactAttempt(customer_id=customer.id,
                                           collector_id=customer.collector_id or members[0].id,
                                           at=moment(30), outcome=rng.choice(list(Outcome)),
                                           source="button"))
            for _ in range(rng.randrange(3)):
                status = rng.choice(list(PromiseStatus))
                session.add(PromiseToPay(
                    customer_id=customer.id, collector_id=customer.collector_id or members[0].id,
                    amount=Decimal(100), promised_date=NOW.date(), status=status,
                    resolved_on=NOW.date() - timedelta(days=rng.randrange(80))
                    if status is not PromiseStatus.OPEN else None,
                    created_at=moment(90)))
            for _ in range(rng.randrange(3) // 2):
                session.add(Dispute(customer_id=customer.id, reason="pricing",
                                    status=rng.choice(list(DisputeStatus)), opened_at=moment(60)))
        uow.commit()
        return [c.id for c in customers]


def _money(amounts: list[Decimal]) -> Decimal:
    return sum(amounts, Decimal("0.00"))


def _reference(session: Session, calendar: Calendar, customer: Customer) -> EscalationFacts:
    """One account's facts, read on its own and computed the plain way."""
    collector = customer.collector_id
    zone, today = calendar.zone(collector), calendar.today(collector)
    latest = calendar.days[1]

    def local(moment: datetime | None) -> date | None:
        return None if moment is None else local_date(moment, zone)

    invoices = session.scalars(select(Invoice).where(
        Invoice.customer_id == customer.id, Invoice.status == InvoiceStatus.OPEN)).all()
    late = [i for i in invoices if not i.disputed and i.due_date < today]
    attempts = session.scalars(select(ContactAttempt).where(
        ContactAttempt.customer_id == customer.id)).all()
    calls = [a.at for a in attempts if a.outcome in CALL_OUTCOMES]
    reaches = [a.at for a in attempts if a.outcome in RIGHT_PARTY_OUTCOMES]
    reached_at = max(reaches, default=None)
    paid_on = max((p.paid_on for p in session.scalars(select(Payment).where(
        Payment.customer_id == customer.id)) if p.amount > 0), default=None)
    unreached = [a for a in attempts if a.outcome in CALL_OUTCOMES - RIGHT_PARTY_OUTCOMES
                 and (reached_at is None or a.at > reached_at)
                 and (paid_on is None or local_date(a.at, zone) > paid_on)]
    start = datetime.combine(calendar.days[0] - timedelta(days=WINDOW + 1), time.min,
                             tzinfo=calendar.team_zone)
    promises = [p for p in session.scalars(select(PromiseToPay).where(
        PromiseToPay.customer_id == customer.id))
        if (p.status is PromiseStatus.BROKEN and p.resolved_on is not None
            and p.resolved_on >= start.date()) or p.created_at >= start]
    breaks = sorted((p.resolved_on, p.id) for p in promises
                    if p.status is PromiseStatus.BROKEN and p.resolved_on is not None
                    and p.resolved_on >= start.date())
    disputes = sorted((d.opened_at, d.id) for d in session.scalars(select(Dispute).where(
        Dispute.customer_id == customer.id, Dispute.status == DisputeStatus.OPEN)))
    return EscalationFacts(
        customer_id=customer.id,
        status=customer.status,
        tier=customer.tier,
        past_due=_money([i.amount - i.amount_paid for i in late]),
        oldest_due=min((i.due_date for i in late), default=None),
        disputed=_money([i.amount - i.amount_paid for i in invoices
                         if i.disputed and i.due_date < latest]),
        last_contact_on=local(max(calls, default=None)),
        last_reached_on=local(reached_at),
        last_paid_on=paid_on,
        unreached_attempts=len(unreached),
        broken_on=tuple(day for day, _ in breaks),
        latest_broken_id=breaks[-1][1] if breaks else None,
        last_promise_on=max((local_date(p.created_at, zone) for p in promises), default=None),
        dispute_opened_on=local(disputes[0][0]) if disputes else None,
        dispute_id=disputes[0][1] if disputes else None,
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_set_based_facts_equal_each_account_read_on_its_own(db: Database, seed: int) -> None:
    customer_ids = _ledger(db, seed)
    min_balance = Decimal(500)
    with db.uow() as uow:
        session = uow.session
        calendar = team_calendar(session, NOW, ZoneInfo("Europe/London"))
        assert calendar.days[0] < calendar.days[1]  # the day between the zones is exercised
        include = customer_ids[::9]  # some named whatever their status or balance
        loaded = load_facts(session, calendar, min_balance=min_balance,
                            broken_window_days=WINDOW, include=include)
        expected = {}
        for customer in session.scalars(select(Customer)):
            facts = _reference(session, calendar, customer)
            owed = _money([i.amount - i.amount_paid for i in session.scalars(select(Invoice).where(
                Invoice.customer_id == customer.id, Invoice.status == InvoiceStatus.OPEN,
                Invoice.due_date < calendar.days[1]))])
            if customer.id in include or (customer.status is CustomerStatus.ACTIVE
                                          and owed > 0 and owed >= min_balance):
                expected[customer.id] = facts
        assert loaded.facts == expected
        assert loaded.collectors == {
            c.id: c.collector_id for c in session.scalars(select(Customer)) if c.id in expected}
        assert len(expected) > 20  # the ledger names many accounts: the test reads something
