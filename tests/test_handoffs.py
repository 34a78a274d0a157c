"""Hand-off with a frozen clock: after the segment's `handoff_after` attempts without result the
account moves to the least loaded active collector of the team (never the same one); both are
told, it is audited, and both lists say so; it waits for as many new attempts to move again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import AuditEvent, CallList, CallListEntry, Customer, Invoice, TeamMember
from bot.domain.handoff import handed_from, least_loaded
from bot.domain.vocabulary import Role
from bot.sandbox.web_api import SlackSandbox
from bot.services.call_lists import call_list_view
from bot.services.morning import run_call_lists
from scheduler.jobs import JobContext, JobResult, run_job
from tests.slack_fixtures import fast_gateway
from tests.test_escalation_delivery import _settings
from tests.test_escalations_job import NOW, TODAY, Ledger


def test_the_least_loaded_other_collector_takes_it() -> None:
    load = {1: Decimal("10"), 2: Decimal("5"), 3: Decimal("5")}
    assert least_loaded(load, 2) == 3
    assert least_loaded(load, 1) == 2
    assert least_loaded({1: Decimal("0")}, 1) is None
    assert handed_from("Ben", 6) == "handed over from Ben after 6 attempts"


@pytest.fixture
def sandbox(slack_sandbox: SlackSandbox) -> SlackSandbox:
    for user, name in (("UMAX", "Max"), ("UANA", "Ana"), ("UBEN", "Ben"), ("UCORA", "Cora"),
                       ("UCARL", "Carl")):
        slack_sandbox.add_user(user, name=name, tz="America/New_York")
    slack_sandbox.add_channel("C0MGRS", "managers")
    return slack_sandbox


class Book:
    """Ana, Ben ($500 past due) and Cora ($9,000) report to Max; Carl ($0) to someone else.
    Ana's account is 100 days late (91-120: handed off after 3 attempts)."""

    def __init__(self, db: Database, db_url: str, sandbox: SlackSandbox) -> None:
        self.db, self.db_url, self.sandbox = db, db_url, sandbox
        self.ledger = Ledger(db)
        with db.uow() as uow:
            other = TeamMember(slack_user_id="UOTHER", name="Olga", role=Role.MANAGER)
            uow.session.add(other)
            uow.session.flush()
            self.ids: dict[str, int] = {"UANA": self.ledger.ana}
            for slack, name, manager in (("UBEN", "Ben", self.ledger.manager),
                                         ("UCORA", "Cora", self.ledger.manager),
                                         ("UCARL", "Carl", other.id)):
                member = TeamMember(slack_user_id=slack, name=name, role=Role.COLLECTOR,
                                    manager_id=manager, timezone="America/New_York")
                uow.session.add(member)
                uow.session.flush()
                self.ids[slack] = member.id
            uow.commit()
        self._book("BEN1", "UBEN", "500.00")
        self._book("CORA1", "UCORA", "9000.00")
        self.customer = self.ledger.account("ACME", "3000.00", 100)
        for days in (6, 7, 8):
            self.ledger.call(self.customer, NOW - timedelta(days=days))

    def _book(self, ref: str, owner: str, amount: str) -> None:
        with self.db.uow() as uow:
            customer = Customer(external_ref=ref, name=ref, collector_id=self.ids[owner])
            uow.session.add(customer)
            uow.session.flush()
            uow.session.add(Invoice(number=f"INV-{ref}", customer_id=customer.id,
                                    issue_date=TODAY - timedelta(days=40),
                                    due_date=TODAY - timedelta(days=10), amount=Decimal(amount)))
            uow.commit()

    def run(self, days: float = 0) -> JobResult:
        context = JobContext(self.db, fast_gateway(self.sandbox.url),
                             _settings(self.db_url, self.sandbox))
        return run_job("escalations", context, NOW + timedelta(days=days))

    def collector(self) -> int | None:
        with self.db.uow() as uow:
            return uow.session.get_one(Customer, self.customer).collector_id


@pytest.fixture
def book(db: Database, db_url: str, sandbox: SlackSandbox) -> Book:
    return Book(db, db_url, sandbox)


def test_handed_to_the_least_loaded_of_the_team_and_both_told(book: Book) -> None:
    with book.db.uow() as uow:
        today = CallList(collector_id=book.ledger.ana, list_date=TODAY,
                         timezone="America/New_York")
        uow.session.add(today)
        uow.session.flush()
        uow.session.add(CallListEntry(call_list_id=today.id, position=1,
                                      customer_id=book.customer, score=Decimal("1.00"),
                                      reason="$3,000 past due · 100 days",
                                      past_due=Decimal("3000.00"), days_past_due=100))
        ana_list = today.id
        uow.commit()
    result = book.run()
    assert "1 handed over" in result.summary
    assert book.collector() == book.ids["UBEN"]  # not Carl (another team), not Cora ($9,000)
    with book.db.uow() as uow:
        (event,) = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "customer.handed_over")).all()
        assert event.detail == {"collector_id": book.ids["UBEN"],
                                "previous_collector_id": book.ledger.ana, "attempts": 3}
        view = call_list_view(uow.session, ana_list, now=NOW)
    assert view.items[0].reason.startswith("handed over to Ben after 3 attempts · ")
    (to_ana,) = book.sandbox.dms("UANA")[-1:]
    assert "was handed over to Ben after 3 attempts without result" in to_ana["text"]
    (to_ben,) = book.sandbox.dms("UBEN")
    assert "is yours now: handed over from Ana after 3 attempts" in to_ben["text"]
    # Reruns move nothing more: no attempt since the hand-off.
    for hours in (1, 2, 24):
        assert "handed over" not in book.run(hours / 24).summary
    assert book.collector() == book.ids["UBEN"]
    # Ben's next morning list says where the account came from.
    settings = _settings(book.db_url, book.sandbox)
    morning = NOW.replace(hour=13, minute=35) + timedelta(days=1)
    run_call_lists(book.db, fast_gateway(book.sandbox.url), settings, now=morning)
    with book.db.uow() as uow:
        reasons = list(uow.session.scalars(
            select(CallListEntry.reason).join(CallList)
            .where(CallList.collector_id == book.ids["UBEN"],
                   CallListEntry.customer_id == book.customer)))
    assert reasons and reasons[0].startswith("handed over from Ana after 3 attempts · ")


def test_it_moves_again_only_after_as_many_new_attempts_never_to_the_same(book: Book) -> None:
    book.run()
    assert book.collector() == book.ids["UBEN"]
    for hours in (1, 2):
        book.ledger.call(book.customer, NOW + timedelta(hours=hours))
    assert "handed over" not in book.run(0.2).summary
    book.ledger.call(book.customer, NOW + timedelta(hours=3))
    assert "1 handed over" in book.run(0.3).summary
    assert book.collector() not in (book.ids["UBEN"], None)


def test_a_segment_without_handoff_keeps_one_collector(book: Book, db: Database) -> None:
    with db.uow() as uow:
        for invoice in uow.session.scalars(select(Invoice).where(
                Invoice.customer_id == book.customer)):
            invoice.due_date = TODAY - timedelta(days=40)  # 31-60 days: handoff_after null
        uow.commit()
    assert "handed over" not in book.run().summary
    assert book.collector() == book.ledger.ana
