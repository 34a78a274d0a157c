"""Calls against target: my day and week, and a manager's team today, in local days."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from bot.db import Database
from bot.db.models import ContactAttempt, PromiseToPay
from bot.domain.vocabulary import Outcome
from bot.services.roster import member_for
from bot.services.stats import collector_progress, my_stats, team_progress
from tests.service_seed import NOW, TODAY, Seed, day, seed


def _attempts(db: Database, collector_id: int, customer_id: int,
              spec: list[tuple[datetime, Outcome]]) -> None:
    with db.uow() as uow:
        for at, outcome in spec:
            attempt = ContactAttempt(customer_id=customer_id, collector_id=collector_id, at=at,
                                     outcome=outcome, source="button")
            uow.session.add(attempt)
            uow.session.flush()
            if outcome is Outcome.PROMISE_TO_PAY:
                uow.session.add(PromiseToPay(customer_id=customer_id, collector_id=collector_id,
                                             attempt_id=attempt.id, amount=Decimal("250.00"),
                                             promised_date=day(3)))
        uow.commit()


def _history(db: Database, ids: Seed) -> None:
    _attempts(db, ids.alice, ids.acme_corp, [
        (NOW - timedelta(hours=1), Outcome.REACHED),
        (NOW - timedelta(hours=2), Outcome.NO_ANSWER),
        (NOW - timedelta(hours=3), Outcome.PROMISE_TO_PAY),
        (NOW - timedelta(hours=4), Outcome.NOTE),  # not a call
        (NOW - timedelta(days=1), Outcome.LEFT_VOICEMAIL),  # Sunday: last week
        (NOW + timedelta(days=1), Outcome.REACHED),  # tomorrow: this week, not today
    ])
    # Bob is in Los Angeles: 07:00 UTC today is still yesterday there.
    _attempts(db, ids.bob, ids.beta, [
        (NOW - timedelta(hours=1), Outcome.REACHED),
        (datetime.combine(TODAY, datetime.min.time(), NOW.tzinfo) + timedelta(hours=7),
         Outcome.REACHED),
    ])


def test_my_day_and_week(db: Database) -> None:
    ids = seed(db)
    _history(db, ids)
    with db.uow() as uow:
        stats = my_stats(uow.session, member_for(uow.session, "UALICE"),
                         now=NOW + timedelta(days=2), default_tz="UTC")
        assert (stats.week.start, stats.week.end) == (TODAY, day(6))
        assert (stats.week.calls, stats.week.target) == (4, 50)
        assert (stats.week.right_party, stats.week.promises) == (3, 1)
        assert stats.week.promised == Decimal("250.00")
        today = my_stats(uow.session, member_for(uow.session, "UALICE"), now=NOW,
                         default_tz="UTC").day
        assert (today.calls, today.target, today.right_party, today.promises) == (3, 10, 2, 1)


def test_team_progress_counts_each_collectors_local_day(db: Database) -> None:
    ids = seed(db)
    _history(db, ids)
    with db.uow() as uow:
        s = uow.session
        team = team_progress(s, member_for(s, "UMGR"), now=NOW, default_tz="UTC")
        assert [(p.name, p.slack_id, p.done, p.target) for p in team] == [
            ("Alice", "UALICE", 3, 10), ("Bob", "UBOB", 1, 25)]
        everyone = team_progress(s, member_for(s, "UADMIN"), now=NOW, default_tz="UTC")
        assert [p.name for p in everyone] == ["Alice", "Bob", "Carol"]
        assert team_progress(s, member_for(s, "UALICE"), now=NOW, default_tz="UTC") == []
        alice = collector_progress(s, member_for(s, "UALICE"), now=NOW, default_tz="UTC")
        assert alice.done == 3
