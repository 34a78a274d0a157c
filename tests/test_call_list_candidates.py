"""Loading only the best candidates per collector gives exactly the lists a full load gives.

The candidates are ranked in SQL: accounts the rules surely leave off (inactive, snoozed,
called too recently for any strategy that may cover them) and urgent ones (always loaded)
take no candidate's place. These tests build ledgers with all of that mixed in, across
collectors in different zones, and compare against the rules run over every account.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import ContactAttempt, Customer, Invoice, Payment, PromiseToPay, TeamMember
from bot.domain.aging import Bucket
from bot.domain.likelihood import default_curve
from bot.domain.policy import Policy, default_policy, parse_policy
from bot.domain.priority import build_call_list
from bot.domain.vocabulary import CustomerStatus, Outcome, PromiseStatus
from bot.services import call_lists
from bot.services.call_list_queries import load_account_states
from bot.services.call_lists import Planned, compute_lists, recontact_cutoffs
from bot.services.policy import save_policy

TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)  # the same local date in every zone below
ZONES = [ZoneInfo("America/New_York"), ZoneInfo("Asia/Tokyo"), ZoneInfo("Europe/Paris")]

# Every bucket's strategies differ in interval, by balance and by tier: the shortest interval
# a bucket allows is not the one most of its accounts get.
MIXED_POLICY = """
segments:
  - name: big ones
    match: {min_past_due: 40000}
    recontact_days: 2
    max_attempts: 5
  - name: key tier
    match: {tiers: [key]}
    recontact_days: 4
    max_attempts: 5
  - name: middle
    match: {buckets: [31-60, 61-90], min_past_due: 5000, max_past_due: 40000}
    recontact_days: 6
    max_attempts: 5
  - name: everyone else
    recontact_days: 9
    max_attempts: 5
"""

TIERED_POLICY = """
segments:
  - name: key tier
    match: {tiers: [key]}
    recontact_days: 4
    max_attempts: 5
  - name: everyone else
    recontact_days: 9
    max_attempts: 5
"""


def _ledger(
    db: Database, *, seed: int, accounts: int, called_days: tuple[int, int], called: float,
    tiers: tuple[str, ...] = ("standard", "key", "small", " Key "),
    callbacks: float = 0.06, promises: float = 0.05,
) -> None:
    """Collectors in three zones; accounts with every kind of state the rules look at."""
    rng = random.Random(seed)
    with db.uow() as uow:
        s = uow.session
        members = [
            TeamMember(slack_user_id=f"U{i}", name=f"C{i}", daily_call_target=6 + 2 * i,
                       timezone=ZONES[i].key)
            for i in range(3)
        ]
        s.add_all(members)
        s.flush()
        for n in range(accounts):
            owner = members[n % 3]
            roll = rng.random()
            customer = Customer(
                external_ref=f"R{n:04d}", name=f"Customer {n:04d}",
                tier=rng.choice(tiers),
                collector_id=owner.id,
                status=rng.choice(list(CustomerStatus)) if roll < 0.08 else CustomerStatus.ACTIVE,
                snoozed_until=(TODAY + timedelta(days=rng.randrange(-3, 4))
                               if 0.08 <= roll < 0.14 else None),
            )
            s.add(customer)
            s.flush()
            for k in range(rng.randrange(1, 4)):
                due = TODAY - timedelta(days=rng.randrange(-20, 200))
                s.add(Invoice(number=f"I{n:04d}-{k}", customer_id=customer.id,
                              issue_date=due - timedelta(days=30), due_date=due,
                              amount=Decimal(rng.randrange(100, 90_000)) + Decimal("0.07"),
                              disputed=rng.random() < 0.05))
            if rng.random() < called:
                # Calls (and notes, which are not contacts) at any hour of recent days.
                for _ in range(rng.randrange(1, 3)):
                    at = NOW - timedelta(days=rng.randrange(*called_days),
                                         hours=rng.randrange(0, 24))
                    outcome = rng.choice([Outcome.NO_ANSWER, Outcome.REACHED, Outcome.NOTE,
                                          Outcome.LEFT_VOICEMAIL])
                    s.add(ContactAttempt(customer_id=customer.id, collector_id=owner.id,
                                         at=at, outcome=outcome, source="command"))
            if rng.random() < callbacks:
                # A callback around today (due today in one zone, passed or ahead in another),
                # or one whose day passed long ago.
                at = NOW - timedelta(days=rng.randrange(1, 25))
                s.add(ContactAttempt(
                    customer_id=customer.id, collector_id=owner.id, at=at,
                    outcome=Outcome.CALLBACK_REQUESTED, source="command",
                    callback_at=rng.choice([NOW + timedelta(hours=rng.randrange(-30, 40)),
                                            at + timedelta(days=rng.randrange(1, 4))])))
            # A promise, now and then two: the rules read the open one with the latest date.
            roll = rng.random()
            for _ in range(0 if roll >= promises else 2 if roll < promises * 0.3 else 1):
                broken = rng.random() < 0.4
                s.add(PromiseToPay(
                    customer_id=customer.id, collector_id=owner.id, amount=Decimal(50),
                    status=PromiseStatus.BROKEN if broken else PromiseStatus.OPEN,
                    promised_date=TODAY + timedelta(days=rng.randrange(-6, 4)),
                    resolved_on=TODAY - timedelta(days=rng.randrange(0, 40)) if broken else None))
        uow.commit()


Lists = dict[str, tuple[list[tuple[int, Decimal]], Decimal]]  # user: (items, past-due book)


def _full_lists(db: Database, policy: Policy) -> Lists:
    """The rules over every account of every collector: what the candidates must reproduce."""
    curve = default_curve()
    with db.uow() as uow:
        members = uow.session.query(TeamMember).all()
        # Each call dated in its collector's zone, as compute_lists dates it.
        states = load_account_states(uow.session, collector_ids=None, today=TODAY, now=NOW,
                                     zones={m.id: ZoneInfo(m.timezone) for m in members})
        return {
            m.slack_user_id: ([
                (i.customer_id, i.score)
                for i in build_call_list(states.by_collector.get(m.id, []), policy, curve,
                                         today=TODAY, now=NOW, tz=ZoneInfo(m.timezone),
                                         target=m.daily_call_target).items
            ], states.books.get(m.id, Decimal(0)))
            for m in members
        }


def _pruned_lists(db: Database) -> Lists:
    with db.uow() as uow:
        members = uow.session.query(TeamMember).all()
        planned = [Planned(m, ZoneInfo(m.timezone), TODAY) for m in members]
        _, computed = compute_lists(uow.session, planned, now=NOW)
    return {c.planned.member.slack_user_id: (
        [(i.customer_id, i.score) for i in c.result.items], c.past_due_book) for c in computed}


@pytest.fixture
def full_loads(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    """The collector ids of every full (unpruned) load compute_lists falls back to."""
    loads: list[list[int]] = []
    real_load = call_lists.load_account_states

    def counting_load(*args: object, **kwargs: object) -> object:
        if kwargs.get("prune") is None:
            loads.append(sorted(kwargs["collector_ids"]))  # type: ignore[call-overload]
        return real_load(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(call_lists, "load_account_states", counting_load)
    monkeypatch.setattr(call_lists, "CANDIDATES_PER_CALL", 2)  # few candidates: cuts happen
    return loads


def _one_collector(s: Session, *, target: int) -> TeamMember:
    """U1, in New York, flushed (so it has an id)."""
    member = TeamMember(slack_user_id="U1", name="C1", daily_call_target=target,
                        timezone=ZONES[0].key)
    s.add(member)
    s.flush()
    return member


def _use(db: Database, text: str | None) -> Policy:
    if text is None:
        return default_policy()
    with db.uow() as uow:
        save_policy(uow, text, "yaml", actor="test")
        uow.commit()
    return parse_policy(text)


@pytest.mark.parametrize(
    ("seed", "called", "called_days", "policy_text"),
    [
        (1, 0.0, (1, 2), None),
        (2, 0.5, (0, 15), None),
        (3, 0.9, (0, 15), None),
        (4, 0.6, (0, 12), MIXED_POLICY),
        (5, 0.9, (0, 4), MIXED_POLICY),
        (6, 0.3, (0, 30), MIXED_POLICY),
    ],
)
def test_candidates_give_the_same_lists_as_a_full_load(
    db: Database, full_loads: list[list[int]], *, seed: int, called: float,
    called_days: tuple[int, int], policy_text: str | None,
) -> None:
    policy = _use(db, policy_text)
    _ledger(db, seed=seed, accounts=300, called=called, called_days=called_days)
    pruned = _pruned_lists(db)
    assert pruned == _full_lists(db, policy)
    if called == 0.0:
        assert not full_loads, "nobody called: the candidates alone decide every list"


@pytest.mark.parametrize("seed", [11, 12])
def test_promises_and_callbacks_everywhere_give_the_same_lists(
    db: Database, full_loads: list[list[int]], seed: int,
) -> None:
    """Promises for later days are ranked off in SQL (the rules leave them off unless a
    callback is due today): with promises and callbacks on most accounts, in every zone, the
    lists still agree with the rules over every account."""
    policy = _use(db, MIXED_POLICY if seed == 12 else None)
    _ledger(db, seed=seed, accounts=300, called=0.4, called_days=(0, 12), callbacks=0.3,
            promises=0.6)
    assert _pruned_lists(db) == _full_lists(db, policy)


def test_a_team_that_called_its_best_accounts_yesterday_needs_no_full_load(
    db: Database, full_loads: list[list[int]],
) -> None:
    """The everyday case: the top of every list was called within every strategy's interval.

    Those accounts are ranked out in SQL, so the next-best candidates fill the lists.
    """
    _ledger(db, seed=7, accounts=300, called=0.0, called_days=(1, 2))
    best = _full_lists(db, default_policy())
    with db.uow() as uow:
        s = uow.session
        for member in s.query(TeamMember).all():
            for customer_id, _ in best[member.slack_user_id][0]:
                s.add(ContactAttempt(customer_id=customer_id, collector_id=member.id,
                                     at=NOW - timedelta(days=1), outcome=Outcome.NO_ANSWER,
                                     source="button"))
        uow.commit()
    pruned = _pruned_lists(db)
    assert pruned == _full_lists(db, default_policy())
    assert not full_loads
    assert [len(items) for items, _ in pruned.values()] == [6, 8, 10]


def test_calls_the_rules_may_still_list_today_fall_back_to_a_full_load(
    db: Database, full_loads: list[list[int]],
) -> None:
    """A call 5 days ago keeps a 9-day account off but not a 4-day (key tier) one of the same
    bucket and balance: SQL does not tell tiers apart, so it keeps them as candidates; when
    they fill the candidates, the collectors are loaded in full, in one load, and the lists
    still agree."""
    policy = _use(db, TIERED_POLICY)
    _ledger(db, seed=8, accounts=300, called=1.0, called_days=(5, 6),
            tiers=("standard", "small"))
    assert _pruned_lists(db) == _full_lists(db, policy)
    assert len(full_loads) == 1, "the inconclusive collectors share one full load"
    assert full_loads[0], full_loads


def test_a_collector_with_nothing_to_call_today_still_gets_their_book(
    db: Database, full_loads: list[list[int]],
) -> None:
    with db.uow() as uow:
        s = uow.session
        member = _one_collector(s, target=5)
        for n, amount in enumerate(["1200.50", "800.25"]):
            customer = Customer(external_ref=f"R{n}", name=f"R{n}", collector_id=member.id,
                                snoozed_until=TODAY + timedelta(days=3))
            s.add(customer)
            s.flush()
            s.add(Invoice(number=f"I{n}", customer_id=customer.id, amount=Decimal(amount),
                          issue_date=TODAY - timedelta(days=90),
                          due_date=TODAY - timedelta(days=60)))
        uow.commit()
    assert _pruned_lists(db) == {"U1": ([], Decimal("2000.75"))}


def test_recontact_cutoffs_follow_each_bucket_shortest_interval_in_the_latest_zone() -> None:
    policy = parse_policy(MIXED_POLICY)
    tokyo, new_york = ZoneInfo("Asia/Tokyo"), ZoneInfo("America/New_York")
    cutoffs = recontact_cutoffs(policy, TODAY, [tokyo, new_york])
    assert Bucket.CURRENT not in cutoffs

    def start(days: int) -> datetime:  # New York starts each local day after Tokyo
        return datetime.combine(TODAY - timedelta(days=days - 1), time.min, tzinfo=new_york)

    middle = cutoffs[Bucket.DAYS_31_60]
    assert [(r.min_past_due, r.max_past_due, r.since) for r in middle] == [
        (Decimal(40000), None, start(2)),
        (None, None, start(4)),  # the key tier: any balance; nothing longer can be shortest
    ]
    assert [r.since for r in cutoffs[Bucket.DAYS_120_PLUS]] == [start(2), start(4)]
    only_tokyo = recontact_cutoffs(policy, TODAY, [tokyo])
    assert only_tokyo[Bucket.DAYS_1_30][0].since == datetime.combine(
        TODAY - timedelta(days=1), time.min, tzinfo=tokyo)


def test_a_balance_on_a_strategy_boundary_keeps_that_strategy_interval(
    db: Database, full_loads: list[list[int]],
) -> None:
    """40,000.00 past due is a 'big one' (every 2 days): called 3 days ago, it is listed;
    39,999.99 is not (every 9 days). BIG's four invoices add up to 39,999.99999999999 as
    SQLite's floats: the candidates must still count it as 40,000.00, as the rules do."""
    _use(db, MIXED_POLICY)
    with db.uow() as uow:
        s = uow.session
        member = _one_collector(s, target=5)
        for ref, amounts in (("BIG", ["16722.78", "8478.54", "8688.80", "6109.88"]),
                             ("UNDER", ["39999.99"]), ("FRESH", ["1000.00"])):
            customer = Customer(external_ref=ref, name=ref, tier="standard",
                                collector_id=member.id)
            s.add(customer)
            s.flush()
            for k, amount in enumerate(amounts):
                due = TODAY - timedelta(days=45)
                s.add(Invoice(number=f"{ref}-{k}", customer_id=customer.id, due_date=due,
                              issue_date=due - timedelta(days=30), amount=Decimal(amount)))
            if ref != "FRESH":
                s.add(ContactAttempt(customer_id=customer.id, collector_id=member.id,
                                     at=NOW - timedelta(days=3), outcome=Outcome.NO_ANSWER,
                                     source="button"))
        uow.commit()
    with db.uow() as uow:
        ids = dict(uow.session.query(Customer.external_ref, Customer.id).all())
    listed = [customer_id for customer_id, _ in _pruned_lists(db)["U1"][0]]
    assert listed == [ids["BIG"], ids["FRESH"]]


def test_a_candidate_that_scores_below_its_bound_cannot_hide_a_better_account(
    db: Database, full_loads: list[list[int]],
) -> None:
    """Target 1, so 2 candidates: A and B have the largest balances, but were called exactly
    7 days ago (their 31-60 strategy's interval), so they score ×1, not the ×1.5 of the
    bound. C, smaller and never called, was left out yet outscores them both: the candidates
    cannot prove the list, and the full load puts C on it."""
    with db.uow() as uow:
        s = uow.session
        member = _one_collector(s, target=1)
        member_id = member.id
        for ref, amount, called in (("A", "10000.00", True), ("B", "9000.00", True),
                                    ("C", "8000.00", False)):
            customer = Customer(external_ref=ref, name=ref, collector_id=member.id)
            s.add(customer)
            s.flush()
            s.add(Invoice(number=f"I-{ref}", customer_id=customer.id, amount=Decimal(amount),
                          issue_date=TODAY - timedelta(days=75),
                          due_date=TODAY - timedelta(days=45)))
            if called:
                s.add(ContactAttempt(customer_id=customer.id, collector_id=member.id,
                                     at=NOW - timedelta(days=7), outcome=Outcome.NO_ANSWER,
                                     source="button"))
        uow.commit()
    with db.uow() as uow:
        ids = dict(uow.session.query(Customer.external_ref, Customer.id).all())
    assert [customer_id for customer_id, _ in _pruned_lists(db)["U1"][0]] == [ids["C"]]
    assert full_loads == [[member_id]]


@pytest.mark.parametrize("seed", [2, 5])
def test_a_full_compute_counts_every_account_left_off_and_over_the_target(
    db: Database, seed: int,
) -> None:
    """What `collectbot preview` prints: counts over the whole book, not the candidates."""
    policy = _use(db, None if seed == 2 else MIXED_POLICY)
    _ledger(db, seed=seed, accounts=300, called=0.7, called_days=(0, 12))
    curve = default_curve()
    with db.uow() as uow:
        members = uow.session.query(TeamMember).all()
        states = load_account_states(uow.session, collector_ids=None, today=TODAY, now=NOW)
        expected = {
            m.slack_user_id: build_call_list(
                states.by_collector.get(m.id, []), policy, curve, today=TODAY, now=NOW,
                tz=ZoneInfo(m.timezone), target=m.daily_call_target)
            for m in members
        }
        planned = [Planned(m, ZoneInfo(m.timezone), TODAY) for m in members]
        _, computed = compute_lists(uow.session, planned, now=NOW, full=True)
    assert {c.planned.member.slack_user_id: c.result for c in computed} == expected
    assert all(r.overflow > 0 and r.excluded for r in expected.values())


def _evening_call_ledger(db: Database, *, call_local: datetime) -> None:
    """A New York collector's account: a promise broken on the 22nd, a payment on the 21st,
    and one call at `call_local` (New York time)."""
    with db.uow() as uow:
        s = uow.session
        member = TeamMember(slack_user_id="UNY", name="Nora", daily_call_target=5,
                            timezone="America/New_York")
        s.add(member)
        s.flush()
        customer = Customer(external_ref="R-EVE", name="Evening Co", collector_id=member.id)
        s.add(customer)
        s.flush()
        s.add(Invoice(number="I-EVE", customer_id=customer.id, issue_date=TODAY - timedelta(60),
                      due_date=TODAY - timedelta(30), amount=Decimal("900.00")))
        s.add(Payment(external_ref="P-EVE", customer_id=customer.id, amount=Decimal("100.00"),
                      paid_on=date(2026, 11, 21)))
        s.add(PromiseToPay(customer_id=customer.id, collector_id=member.id,
                           amount=Decimal("800.00"), status=PromiseStatus.BROKEN,
                           promised_date=date(2026, 11, 21), resolved_on=date(2026, 11, 22)))
        s.add(ContactAttempt(customer_id=customer.id, collector_id=member.id,
                             at=call_local.astimezone(UTC), outcome=Outcome.NO_ANSWER,
                             source="button"))
        uow.commit()


@pytest.mark.parametrize(("call_local", "followed_up", "attempts"), [
    # 20:30 on the 21st in New York is 01:30 on the 22nd in UTC: the promise broke on the 22nd
    # and the payment came on the 21st, so this call neither followed it up nor came after it.
    (datetime(2026, 11, 21, 20, 30, tzinfo=ZoneInfo("America/New_York")), False, 0),
    # The morning of the 22nd: after both.
    (datetime(2026, 11, 22, 9, 0, tzinfo=ZoneInfo("America/New_York")), True, 1),
])
def test_a_call_is_dated_on_its_collectors_own_day(
    db: Database, call_local: datetime, followed_up: bool, attempts: int
) -> None:
    _evening_call_ledger(db, call_local=call_local)
    with db.uow() as uow:
        member = uow.session.query(TeamMember).one()
        zone = ZoneInfo("America/New_York")
        loaded = load_account_states(uow.session, collector_ids=[member.id], today=TODAY,
                                     now=NOW, zones={member.id: zone})
        (state,) = loaded.by_collector[member.id]
        assert (state.broken_promise is None) is followed_up
        assert state.attempts == attempts
        _, (computed,) = compute_lists(uow.session, [Planned(member, zone, TODAY)], now=NOW)
    reasons = [item.reason for item in computed.result.items]
    # Not followed up: first on the list for it. Followed up yesterday: too recent to call.
    assert reasons == ([] if followed_up else [reasons[0]])
    assert followed_up or "broken" in reasons[0], reasons
