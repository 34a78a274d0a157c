"""The escalation job on hand-made ledgers with a frozen clock, on both engines: opened once with
its reasons in words, merged, closed by itself with the reason, settled by a decision, and no
duplicate over 30 days of hourly runs."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import (
    AuditEvent,
    ContactAttempt,
    Customer,
    Dispute,
    Escalation,
    Invoice,
    Payment,
    PromiseToPay,
    TeamMember,
)
from bot.domain.vocabulary import (
    CustomerStatus,
    DisputeStatus,
    EscalationStatus,
    Outcome,
    PromiseStatus,
    Role,
)
from bot.services.escalations import close_escalation, open_escalations, run_escalations

# Monday 23 Nov 2026, 15:00 UTC: 10:00 in New York.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = NOW.date()


class Ledger:
    """A manager, a collector in New York, and accounts built per test."""

    def __init__(self, db: Database) -> None:
        self.db = db
        with db.uow() as uow:
            manager = TeamMember(slack_user_id="UMAX", name="Max", role=Role.MANAGER,
                                 timezone="America/New_York")
            uow.session.add(manager)
            uow.session.flush()
            ana = TeamMember(slack_user_id="UANA", name="Ana", role=Role.COLLECTOR,
                             manager_id=manager.id, timezone="America/New_York")
            uow.session.add(ana)
            uow.session.flush()
            self.manager, self.ana = manager.id, ana.id
            uow.commit()

    def account(self, ref: str, past_due: str, days_late: int, *, disputed: bool = False) -> int:
        with self.db.uow() as uow:
            customer = Customer(external_ref=ref, name=f"Customer {ref}", collector_id=self.ana)
            uow.session.add(customer)
            uow.session.flush()
            due = TODAY - timedelta(days=days_late)
            uow.session.add(Invoice(number=f"INV-{ref}", customer_id=customer.id,
                                    issue_date=due - timedelta(days=30), due_date=due,
                                    amount=Decimal(past_due), disputed=disputed))
            uow.commit()
            return customer.id

    def call(self, customer_id: int, when: datetime, outcome: Outcome = Outcome.NO_ANSWER) -> None:
        with self.db.uow() as uow:
            uow.session.add(ContactAttempt(customer_id=customer_id, collector_id=self.ana, at=when,
                                           outcome=outcome, source="button"))
            uow.commit()

    def pay(self, customer_id: int, amount: str, on: datetime) -> None:
        with self.db.uow() as uow:
            invoice = uow.session.scalars(
                select(Invoice).where(Invoice.customer_id == customer_id)).one()
            invoice.amount_paid += Decimal(amount)
            uow.session.add(Payment(external_ref=f"P-{customer_id}-{on:%j%H}",
                                    customer_id=customer_id, invoice_id=invoice.id,
                                    amount=Decimal(amount), paid_on=on.date()))
            uow.commit()

    def promise(self, customer_id: int, made: datetime, *, broken_on: int | None = None) -> int:
        with self.db.uow() as uow:
            row = PromiseToPay(customer_id=customer_id, collector_id=self.ana,
                               amount=Decimal("100.00"), promised_date=made.date(),
                               created_at=made)
            if broken_on is not None:
                row.status = PromiseStatus.BROKEN
                row.resolved_on = TODAY - timedelta(days=broken_on)
            uow.session.add(row)
            uow.commit()
            return row.id

    def run(self, now: datetime = NOW) -> tuple[int, int, int]:
        with self.db.uow() as uow:
            result = run_escalations(uow, now=now, team_zone="UTC")
            uow.commit()
        return len(result.opened), len(result.merged), len(result.closed)

    def escalations(self, customer_id: int) -> list[Escalation]:
        with self.db.uow() as uow:
            rows = list(uow.session.scalars(select(Escalation).where(
                Escalation.customer_id == customer_id).order_by(Escalation.id)))
            uow.session.expunge_all()
        return rows


@pytest.fixture
def ledger(db: Database) -> Ledger:
    return Ledger(db)


def test_each_rule_opens_one_escalation_with_its_words(ledger: Ledger) -> None:
    silent = ledger.account("SILENT", "2000.00", 20)  # 1-30 days: light touch, 21 days
    ledger.call(silent, NOW - timedelta(days=25))
    unreached = ledger.account("UNREACHED", "3000.00", 40)  # 31-60 days: max 4 attempts
    for day in (1, 2, 3, 4, 5):
        ledger.call(unreached, NOW - timedelta(days=day))
    broken = ledger.account("BROKEN", "1500.00", 35)
    ledger.call(broken, NOW - timedelta(days=2), Outcome.REACHED)
    ledger.promise(broken, NOW - timedelta(days=30), broken_on=20)
    ledger.promise(broken, NOW - timedelta(days=12), broken_on=3)
    big = ledger.account("BIG", "62000.00", 95)  # 91-120 days
    ledger.call(big, NOW - timedelta(days=1), Outcome.REACHED)
    disputed = ledger.account("DISPUTED", "900.00", 50, disputed=True)
    with ledger.db.uow() as uow:
        uow.session.add(Dispute(customer_id=disputed, reason="pricing",
                                opened_at=NOW - timedelta(days=45)))
        uow.commit()
    fine = ledger.account("FINE", "5000.00", 10)
    ledger.call(fine, NOW - timedelta(days=2), Outcome.REACHED)
    small = ledger.account("SMALL", "80.00", 200)  # below the minimum of $100

    assert ledger.run() == (4, 0, 0)
    reasons = {c: [e.reason for e in ledger.escalations(c)] for c in
               (silent, unreached, broken, big, disputed, fine, small)}
    assert reasons == {
        silent: [],  # 20 days silent while past due: under the 21 of its strategy
        unreached: ["5 attempts, nobody reached (policy: 4)"],
        broken: ["2 promises broken in 60 days (policy: 2)"],
        big: ["$62,000 past due, oldest 95 days (policy: $50,000 over 90 days)"],
        disputed: ["dispute open 45 days (policy: 30)"],
        fine: [],
        small: [],
    }
    # A rerun an hour later changes nothing (not even a row rewritten the same).
    assert ledger.run(NOW + timedelta(hours=1)) == (0, 0, 0)
    assert all(e.updated_at is None for c in reasons for e in ledger.escalations(c))
    # The next day the silent account reaches 21 days.
    assert ledger.run(NOW + timedelta(days=1)) == (1, 0, 0)
    assert [e.reason for e in ledger.escalations(silent)] == [
        "no contact for 21 days (policy: 21)"]
    with ledger.db.uow() as uow:
        opened = uow.session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "escalation.opened"))
    assert opened == 5


def test_reasons_merge_into_the_open_escalation(ledger: Ledger) -> None:
    account = ledger.account("A", "3000.00", 40)
    for day in (1, 2, 3, 4, 5):
        ledger.call(account, NOW - timedelta(days=day))
    assert ledger.run() == (1, 0, 0)
    ledger.promise(account, NOW - timedelta(days=30), broken_on=20)
    ledger.promise(account, NOW - timedelta(days=12), broken_on=3)
    assert ledger.run(NOW + timedelta(hours=1)) == (0, 1, 0)
    (escalation,) = ledger.escalations(account)
    assert escalation.reason == ("5 attempts, nobody reached (policy: 4) · "
                                 "2 promises broken in 60 days (policy: 2)")
    assert set(escalation.evidence) == {"attempts", "broken_promises"}


@pytest.mark.parametrize("cause", ["call", "payment", "promise", "dispute", "agency"])
def test_closes_by_itself_when_the_cause_is_gone(ledger: Ledger, cause: str) -> None:
    account = ledger.account("A", "3000.00", 40)
    ledger.call(account, NOW - timedelta(days=20))  # 20 days of silence: over 14
    if cause == "promise":
        ledger.promise(account, NOW - timedelta(days=30), broken_on=20)
        ledger.promise(account, NOW - timedelta(days=12), broken_on=3)
        ledger.call(account, NOW - timedelta(days=2), Outcome.REACHED)
    if cause == "dispute":
        ledger.call(account, NOW - timedelta(days=2), Outcome.REACHED)
        with ledger.db.uow() as uow:
            uow.session.add(Dispute(customer_id=account, reason="quality",
                                    opened_at=NOW - timedelta(days=40)))
            uow.commit()
    assert ledger.run() == (1, 0, 0)
    later = NOW + timedelta(days=1)
    expected = {
        "call": "called on 24 Nov",
        "payment": "nothing is past due any more",
        "promise": "new promise to pay made on 24 Nov",
        "dispute": "dispute resolved",
        "agency": "the account is with a collection agency",
    }[cause]
    if cause == "call":
        ledger.call(account, later - timedelta(hours=1))
    elif cause == "payment":
        ledger.pay(account, "3000.00", later)
    elif cause == "promise":
        ledger.promise(account, later - timedelta(hours=1))
    else:
        with ledger.db.uow() as uow:
            if cause == "dispute":
                uow.session.scalars(select(Dispute)).one().status = DisputeStatus.RESOLVED
            else:
                uow.session.get_one(Customer, account).status = CustomerStatus.AGENCY
            uow.commit()
    assert ledger.run(later) == (0, 0, 1)
    (escalation,) = ledger.escalations(account)
    assert escalation.status is EscalationStatus.CLOSED
    assert escalation.close_reason == expected
    assert escalation.closed_at == later
    assert ledger.run(later + timedelta(hours=1)) == (0, 0, 0)


def test_a_decision_settles_its_causes_and_a_later_broken_promise_opens_a_new_one(
    ledger: Ledger,
) -> None:
    account = ledger.account("A", "3000.00", 40)
    ledger.call(account, NOW - timedelta(days=2), Outcome.REACHED)
    ledger.promise(account, NOW - timedelta(days=30), broken_on=20)
    ledger.promise(account, NOW - timedelta(days=12), broken_on=3)
    assert ledger.run() == (1, 0, 0)
    with ledger.db.uow() as uow:
        row = uow.session.scalars(select(Escalation)).one()
        close_escalation(uow, row, status=EscalationStatus.DECIDED, reason="resolved: talked",
                         now=NOW, actor="UMAX", decision="resolve", decided_by_id=ledger.manager)
        uow.commit()
    # The same broken promises do not escalate again.
    assert ledger.run(NOW + timedelta(hours=1)) == (0, 0, 0)
    # A new promise, then it breaks too: a new escalation.
    third = ledger.promise(account, NOW + timedelta(days=1))
    assert ledger.run(NOW + timedelta(days=1, hours=1)) == (0, 0, 0)
    with ledger.db.uow() as uow:
        promise = uow.session.get_one(PromiseToPay, third)
        promise.status, promise.resolved_on = PromiseStatus.BROKEN, TODAY + timedelta(days=3)
        uow.commit()
    ledger.call(account, NOW + timedelta(days=3), Outcome.REACHED)
    assert ledger.run(NOW + timedelta(days=3, hours=2)) == (1, 0, 0)
    escalations = ledger.escalations(account)
    assert [e.status for e in escalations] == [EscalationStatus.DECIDED, EscalationStatus.OPEN]
    assert escalations[1].reason == "3 promises broken in 60 days (policy: 2)"


@pytest.mark.slow
def test_thirty_days_of_hourly_runs_open_each_cause_once(ledger: Ledger) -> None:
    """Hourly for 30 days while the collector calls one account every 10 days: each silence
    escalates once, closes when the call comes, and never twice at a time."""
    called = ledger.account("CALLED", "3000.00", 40)
    ledger.call(called, NOW - timedelta(days=1), Outcome.REACHED)
    ignored = ledger.account("IGNORED", "3000.00", 40)
    ledger.call(ignored, NOW - timedelta(days=1), Outcome.REACHED)
    totals = [0, 0, 0]
    for hour in range(30 * 24):
        now = NOW + timedelta(hours=hour)
        if hour and hour % (20 * 24) == 0:
            ledger.call(called, now - timedelta(minutes=30), Outcome.REACHED)
        for index, count in enumerate(ledger.run(now)):
            totals[index] += count
        if hour % 24 == 0:
            with ledger.db.uow() as uow:
                open_counts = uow.session.execute(
                    select(Escalation.customer_id, func.count())
                    .where(Escalation.status == EscalationStatus.OPEN)
                    .group_by(Escalation.customer_id)).all()
            assert all(count == 1 for _, count in open_counts)
    # Silence reaches 14 days on day 13 for both (31-60 days past due); the call on day 20
    # closes CALLED's. By then it is 61-90 days past due, whose strategy allows 10 days of
    # silence: on day 30 a new silence escalates it again.
    assert totals == [3, 0, 1]
    first, second = ledger.escalations(called)
    assert (first.status, first.close_reason) == (EscalationStatus.CLOSED, "called on 13 Dec")
    assert (second.status, second.reason) == (EscalationStatus.OPEN,
                                              "no contact for 10 days (policy: 10)")
    assert [e.status for e in ledger.escalations(ignored)] == [EscalationStatus.OPEN]
    assert ledger.escalations(ignored)[0].reason == "no contact for 31 days (policy: 10)"


def test_the_listing_and_the_cli(ledger: Ledger, db_url: str, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    account = ledger.account("A", "3000.00", 40)
    ledger.call(account, NOW - timedelta(days=20))
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["escalations"]) == 0
    assert capsys.readouterr().out.strip() == "No open escalations."
    assert main(["job", "escalations", "--now", NOW.isoformat()]) == 0
    assert capsys.readouterr().out.strip() == (
        "escalations: 1 account(s) checked, 1 opened, 0 merged, 0 closed, 1 open; "
        "nothing sent: SLACK_BOT_TOKEN is not set")
    assert main(["job", "escalations", "--now", (NOW + timedelta(hours=1)).isoformat()]) == 0
    assert "0 opened" in capsys.readouterr().out
    assert main(["escalations", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["open"] == 1
    (line,) = listed["escalations"]
    assert (line["customer_ref"], line["collector"], line["manager"], line["past_due"]) == (
        "A", "UANA", "UMAX", "3000.00")
    assert line["reason"].startswith("no contact for ")
    assert main(["escalations"]) == 0
    assert "Customer A (A)" in capsys.readouterr().out
    with ledger.db.uow() as uow:
        manager = uow.session.get_one(TeamMember, ledger.manager)
        mine = open_escalations(uow.session, today=TODAY, member=manager)
    assert [e.external_ref for e in mine] == ["A"]
    assert mine[0].days_past_due == 40


def test_past_due_is_read_on_each_collectors_own_today(ledger: Ledger) -> None:
    """At 20:00 UTC it is already tomorrow in Tokyo: an invoice due today there is past due for
    a Tokyo collector's account and not yet for one in Los Angeles."""
    from decimal import Decimal

    from bot.services.escalation_facts import load_facts
    from bot.services.escalations import team_calendar

    tokyo = ledger.account("TOKYO", "500.00", 0)
    la = ledger.account("LA", "700.00", 0)
    with ledger.db.uow() as uow:
        leo = TeamMember(slack_user_id="ULEO", name="Leo", role=Role.COLLECTOR,
                         timezone="America/Los_Angeles", manager_id=ledger.manager)
        uow.session.add(leo)
        uow.session.flush()
        uow.session.get_one(Customer, la).collector_id = leo.id
        uow.session.get_one(TeamMember, ledger.ana).timezone = "Asia/Tokyo"
        uow.commit()
    evening = datetime(2026, 11, 23, 20, 0, tzinfo=UTC)
    with ledger.db.uow() as uow:
        calendar = team_calendar(uow.session, evening, "UTC")
        facts = load_facts(uow.session, calendar, min_balance=Decimal(0),
                           broken_window_days=60, include=[la]).facts
    assert (facts[tokyo].past_due, facts[tokyo].oldest_due) == (Decimal("500.00"), TODAY)
    assert (facts[la].past_due, facts[la].oldest_due) == (Decimal("0.00"), None)
