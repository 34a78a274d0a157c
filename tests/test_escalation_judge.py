"""BookJudge answers what segment_of and escalation_reasons answer, account by account.

The hourly job judges the whole book with BookJudge (each segment's thresholds read once, the
rules inline); the plain functions are the rules' definition. Here both judge random accounts
under random policies (every rule on and off, bounds and thresholds at and around the
accounts' figures, tiers spelt differently, segments that never escalate), and the accounts of
a random ledger loaded by the job's own queries on each engine.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from bot.db import Database
from bot.domain.aging import Bucket
from bot.domain.escalation_judge import BookJudge
from bot.domain.escalations import EscalationFacts, escalation_reasons, segment_of
from bot.domain.policy import EscalationRules, Policy, Segment, SegmentMatch, default_policy
from bot.domain.vocabulary import CustomerStatus, EscalationLevel
from bot.services.escalation_facts import load_facts
from bot.services.escalations import team_calendar
from tests.test_escalation_facts import NOW, _ledger

TODAY = date(2026, 11, 23)
MONEY = [Decimal(v) for v in ("-40.00", "0.00", "0.01", "99.99", "100.00", "1000.00", "9999.99",
                              "10000.00", "50000.00", "123456.78")]


def _day(rng: random.Random) -> date | None:
    return None if rng.random() < 0.25 else TODAY - timedelta(days=rng.randrange(-5, 200))


def _maybe(rng: random.Random, value: object) -> object:
    return None if rng.random() < 0.25 else value


def _policy(rng: random.Random) -> Policy:
    segments = []
    for n in range(rng.randrange(1, 6)):
        low = rng.choice([None, *MONEY])
        high = rng.choice([None, *MONEY])
        match = SegmentMatch(
            buckets=frozenset(rng.sample(list(Bucket), rng.randrange(3))),
            min_past_due=low, max_past_due=high,
            tiers=frozenset(rng.sample(["key", "standard", "small"], rng.randrange(2))))
        rules = EscalationRules(
            no_contact_days=_maybe(rng, rng.randrange(1, 30)),  # type: ignore[arg-type]
            broken_promises=_maybe(rng, rng.randrange(1, 4)),  # type: ignore[arg-type]
            broken_promise_days=rng.randrange(1, 90),
            past_due_over=_maybe(rng, rng.choice(MONEY[1:])),  # type: ignore[arg-type]
            past_due_days=rng.randrange(0, 150),
            dispute_days=_maybe(rng, rng.randrange(0, 60)),  # type: ignore[arg-type]
            min_balance=rng.choice(MONEY[1:]))
        path = rng.choice([(), (EscalationLevel.MANAGER,),
                           (EscalationLevel.MANAGER, EscalationLevel.AGENCY)])
        segments.append(Segment(name=f"s{n}", match=match, recontact_days=3,
                                max_attempts=rng.randrange(1, 6), escalation_path=path,
                                escalate=rules))
    segments.append(Segment(name="rest", match=SegmentMatch(), recontact_days=3,
                            max_attempts=rng.randrange(1, 6),
                            escalation_path=rng.choice([(), (EscalationLevel.MANAGER,)]),
                            escalate=EscalationRules(
                                no_contact_days=_maybe(rng, 7),  # type: ignore[arg-type]
                                past_due_over=_maybe(rng, Decimal(1000)),  # type: ignore[arg-type]
                                dispute_days=_maybe(rng, 10))))  # type: ignore[arg-type]
    return Policy(segments=tuple(segments))


def _facts(rng: random.Random, customer_id: int) -> EscalationFacts:
    broken = tuple(sorted(TODAY - timedelta(days=rng.randrange(120))
                          for _ in range(rng.choice([0, 0, 1, 2, 3, 4]))))
    dispute = _day(rng)
    return EscalationFacts(
        customer_id, rng.choice(list(CustomerStatus) + [CustomerStatus.ACTIVE] * 4),
        rng.choice(["key", "KEY ", "standard", "small", ""]), rng.choice(MONEY), _day(rng),
        rng.choice(MONEY[:4]), _day(rng), _day(rng), _day(rng), rng.choice([0, 1, 2, 3, 5, 8]),
        broken, rng.randrange(1, 500) if broken else None, _day(rng), dispute,
        rng.randrange(1, 500) if dispute else None)


def _reference(facts: EscalationFacts, policy: Policy, today: date) -> tuple[Segment, list]:
    segment = segment_of(facts, policy, today)
    return segment, escalation_reasons(facts, segment, today)


@pytest.mark.parametrize("seed", range(6))
def test_the_judge_answers_as_the_rules_on_random_accounts_and_policies(seed: int) -> None:
    rng = random.Random(seed)
    held = 0
    for policy in [default_policy()] + [_policy(rng) for _ in range(30)]:
        judge = BookJudge(policy)
        for n in range(300):
            facts = _facts(rng, n)
            today = TODAY + timedelta(days=rng.randrange(-1, 2))
            expected = _reference(facts, policy, today)
            assert judge.judge(facts, today) == expected, (facts, today)
            held += len(expected[1])
    assert held > 1_000  # the rules hold often enough that their words are compared


@pytest.mark.parametrize("seed", [1, 2])
def test_the_judge_answers_as_the_rules_on_a_loaded_ledger(db: Database, seed: int) -> None:
    _ledger(db, seed)
    policy = default_policy()
    with db.uow() as uow:
        calendar = team_calendar(uow.session, NOW, ZoneInfo("Europe/London"))
        loaded = load_facts(uow.session, calendar, min_balance=Decimal(0),
                            broken_window_days=90)
    judge = BookJudge(policy)
    held = 0
    for customer_id, facts in loaded.facts.items():
        for later in (0, 3, 20):
            today = calendar.today(loaded.collectors[customer_id]) + timedelta(days=later)
            expected = _reference(facts, policy, today)
            assert judge.judge(facts, today) == expected, facts
            held += len(expected[1])
    assert held > 20
