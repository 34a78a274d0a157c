"""Loading only the best candidates per collector gives exactly the lists a full load gives."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database
from bot.db.models import ContactAttempt, Customer, Invoice, PromiseToPay, TeamMember
from bot.domain.likelihood import default_curve
from bot.domain.policy import default_policy
from bot.domain.priority import build_call_list
from bot.domain.vocabulary import Outcome, PromiseStatus
from bot.services import call_lists
from bot.services.account_states import load_account_states
from bot.services.call_lists import Planned, compute_lists

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
TZ = ZoneInfo("America/New_York")


def _ledger(db: Database, *, seed: int, accounts: int, contacted_share: float) -> None:
    rng = random.Random(seed)
    with db.uow() as uow:
        s = uow.session
        members = [TeamMember(slack_user_id=f"U{i}", name=f"C{i}", daily_call_target=8)
                   for i in range(3)]
        s.add_all(members)
        s.flush()
        for n in range(accounts):
            owner = members[n % 3]
            customer = Customer(external_ref=f"R{n:04d}", name=f"Customer {n:04d}",
                                tier=rng.choice(["standard", "key", "small"]),
                                collector_id=owner.id)
            s.add(customer)
            s.flush()
            for k in range(rng.randrange(1, 4)):
                due = TODAY - timedelta(days=rng.randrange(-20, 200))
                s.add(Invoice(number=f"I{n:04d}-{k}", customer_id=customer.id,
                              issue_date=due - timedelta(days=30), due_date=due,
                              amount=Decimal(rng.randrange(100, 90_000)),
                              disputed=rng.random() < 0.05))
            if rng.random() < contacted_share:
                # A recent contact lowers the score below its bound (or leaves it off).
                s.add(ContactAttempt(customer_id=customer.id, collector_id=owner.id,
                                     at=NOW - timedelta(days=rng.randrange(1, 15)),
                                     outcome=Outcome.NO_ANSWER, source="command"))
            if rng.random() < 0.03:
                s.add(PromiseToPay(customer_id=customer.id, collector_id=owner.id,
                                   amount=Decimal(50), status=PromiseStatus.OPEN,
                                   promised_date=TODAY + timedelta(days=rng.randrange(-3, 3))))
        uow.commit()


def _full_lists(db: Database) -> dict[str, list[tuple[int, Decimal]]]:
    policy, curve = default_policy(), default_curve()
    with db.uow() as uow:
        members = uow.session.query(TeamMember).all()
        states = load_account_states(uow.session, collector_ids=None, today=TODAY, now=NOW)
        return {
            m.slack_user_id: [
                (i.customer_id, i.score)
                for i in build_call_list(states.by_collector.get(m.id, []), policy, curve,
                                         today=TODAY, now=NOW, tz=TZ,
                                         target=m.daily_call_target).items
            ]
            for m in members
        }


def _pruned_lists(db: Database) -> dict[str, list[tuple[int, Decimal]]]:
    with db.uow() as uow:
        members = uow.session.query(TeamMember).all()
        _, computed = compute_lists(uow.session, [Planned(m, TZ, TODAY) for m in members],
                                    now=NOW)
    return {c.planned.member.slack_user_id: [(i.customer_id, i.score) for i in c.result.items]
            for c in computed}


@pytest.mark.parametrize(("seed", "contacted_share"), [(1, 0.0), (2, 0.5), (3, 0.9)])
def test_candidates_give_the_same_lists_as_a_full_load(
    db: Database, seed: int, contacted_share: float, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ledger(db, seed=seed, accounts=240, contacted_share=contacted_share)
    fallbacks: list[int] = []
    real_load = call_lists.load_account_states

    def counting_load(*args: object, **kwargs: object) -> object:
        if kwargs.get("top") is None:
            fallbacks.append(1)
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(call_lists, "load_account_states", counting_load)
    monkeypatch.setattr(call_lists, "CANDIDATES_PER_CALL", 2)  # few candidates: cuts happen
    assert _pruned_lists(db) == _full_lists(db)
    if contacted_share == 0.0:
        assert not fallbacks, "nobody contacted: the candidates alone decide every list"
    if contacted_share == 0.9:
        assert fallbacks, "most candidates were recently contacted: a full load was needed"
