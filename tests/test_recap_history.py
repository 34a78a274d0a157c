"""What the recap reads of the metrics equals what the metrics code computes, on random ledgers:
the stored history read back, and the week's flows without the pass over the invoices."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import case, delete, func, select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import (
    ARSnapshot,
    ContactAttempt,
    Customer,
    Invoice,
    PaymentAllocation,
    PromiseToPay,
    TeamMember,
)
from bot.db.sql import date_value, money_from_cents, money_value, raw
from bot.domain.metrics import Metrics
from bot.domain.vocabulary import InvoiceStatus, Outcome, PromiseStatus
from bot.services.ledger import balance_given_applied, open_balance_as_of
from bot.services.metrics import MetricsConfig, metrics_as_of
from bot.services.recap import AccountDay, accounts_on_days, past_due_sums
from bot.services.recap_history import flows_as_of, team_stocks
from bot.services.snapshots import store_snapshots
from tests.test_metrics_history import START, Spec, _build, _clear, invoice

CONFIG = MetricsConfig(zone=ZoneInfo("America/New_York"), country="US",
                       collector_day_cost=Decimal(400))
OUTCOMES = [Outcome.REACHED, Outcome.NO_ANSWER, Outcome.LEFT_VOICEMAIL, Outcome.PROMISE_TO_PAY]
STATUSES = [PromiseStatus.KEPT, PromiseStatus.PARTIALLY_KEPT, PromiseStatus.BROKEN,
            PromiseStatus.OPEN]

Call = tuple[int, int, int, int, Outcome]  # customer, collector, day, hour, outcome
Promise = tuple[int, int, int, PromiseStatus, int]  # customer, collector, day, status, % received
call = st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(150, 240), st.integers(0, 23),
                 st.sampled_from(OUTCOMES))
promise = st.tuples(st.integers(0, 3), st.integers(0, 1), st.integers(150, 240),
                    st.sampled_from(STATUSES), st.integers(0, 120))


def _activity(db: Database, calls: list[Call], promises: list[Promise], leaver: bool) -> None:
    """Calls and promises by Ana and Ben; with `leaver`, C2's collector has left the team (an
    inactive member who still owns the account)."""
    with db.uow() as uow:
        s = uow.session
        customers = list(s.scalars(select(Customer.id).order_by(Customer.id)))
        members = list(s.scalars(select(TeamMember.id).order_by(TeamMember.id)))
        for customer, who, day, hour, outcome in calls:
            at = datetime.combine(START + timedelta(days=day), time(hour), UTC)
            s.add(ContactAttempt(customer_id=customers[customer], collector_id=members[who],
                                 at=at, outcome=outcome, source="button"))
        for customer, who, day, status, percent in promises:
            amount = Decimal(100)
            s.add(PromiseToPay(customer_id=customers[customer], collector_id=members[who],
                               amount=amount, promised_date=START + timedelta(days=day),
                               status=status, amount_received=amount * percent / 100))
        if leaver:
            cy = TeamMember(slack_user_id="UCY", name="Cy", active=False)
            s.add(cy)
            s.flush()
            s.execute(update(Customer).where(Customer.id == customers[2])
                      .values(collector_id=cy.id))
        uow.commit()


def _flows(metrics: Metrics) -> tuple[object, ...]:
    return (metrics.calls_made, metrics.calls_target, metrics.cash_collected,
            metrics.cost_of_collecting, metrics.cost_per_call, metrics.cost_per_dollar_collected,
            metrics.right_party_contact_rate, metrics.promise_kept_rate)


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=12),
       activity=st.tuples(st.lists(call, max_size=25), st.lists(promise, max_size=6),
                          st.booleans()),
       probes=st.lists(st.integers(150, 250), min_size=1, max_size=3))
def test_flows_are_the_7_day_metrics_flows(db: Database, invoices: list[Spec],
                                           activity: tuple[list[Call], list[Promise], bool],
                                           probes: list[int]) -> None:
    _clear(db)
    _build(db, invoices)
    _activity(db, *activity)
    with db.uow() as uow:
        for probe in probes:
            day = START + timedelta(days=probe)
            flows = flows_as_of(uow.session, day, CONFIG, period_days=7)
            full = metrics_as_of(uow.session, day, CONFIG, period_days=7)
            assert _flows(flows.team) == _flows(full.team), day
            assert [(line.collector_id, line.name, line.slack_user_id, _flows(line.metrics))
                    for line in flows.by_collector] == \
                [(line.collector_id, line.name, line.slack_user_id, _flows(line.metrics))
                 for line in full.by_collector], day


@settings(max_examples=15, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=12), calls=st.lists(call, max_size=10),
       history=st.tuples(st.integers(120, 230), st.integers(1, 40),
                         st.lists(st.integers(0, 39), max_size=5)),
       probes=st.lists(st.integers(120, 270), min_size=1, max_size=6))
def test_stocks_read_from_the_history_are_the_metrics(
        db: Database, invoices: list[Spec], calls: list[Call],
        history: tuple[int, int, list[int]], probes: list[int]) -> None:
    """Stored days, days the history lacks (gaps, past its end) and a mix: the same metrics."""
    *stored, gaps = history
    _clear(db)
    _build(db, invoices)
    _activity(db, calls, [], False)
    first = START + timedelta(days=stored[0])
    last = first + timedelta(days=stored[1] - 1)
    with db.uow() as uow:
        store_snapshots(uow.session, first, last, CONFIG)
        for gap in gaps:
            uow.session.execute(delete(ARSnapshot).where(
                ARSnapshot.snapshot_date == first + timedelta(days=gap % stored[1])))
        uow.commit()
    days = [START + timedelta(days=probe) for probe in probes]
    with db.uow() as uow:
        stocks = team_stocks(uow.session, days, CONFIG)
        assert sorted(stocks) == sorted(set(days))
        for day in days:
            assert stocks[day] == metrics_as_of(uow.session, day, CONFIG).team, day


def _accounts_on_one_day(session: Session, day: date) -> list[AccountDay]:
    """The assessment's observation of one day as it was first written (one statement a day):
    the reference the one-pass statement is held to."""
    before = (select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount).label("a"))
              .where(PaymentAllocation.applied_on <= day)
              .group_by(PaymentAllocation.invoice_id).subquery())
    within = (select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount).label("a"))
              .where(PaymentAllocation.applied_on > day,
                     PaymentAllocation.applied_on <= day + timedelta(days=30))
              .group_by(PaymentAllocation.invoice_id).subquery())
    balance = balance_given_applied(func.coalesce(before.c.a, 0))
    later = func.coalesce(within.c.a, 0)
    collected = case((later > balance, balance), (later < 0, 0), else_=later)
    can_roll = Invoice.due_date >= day - timedelta(days=120)
    rows = session.execute(
        select(Customer.external_ref, Customer.tier, func.sum(balance),
               func.min(Invoice.due_date), func.sum(collected),
               func.sum(case((can_roll, balance), else_=0)),
               func.sum(case((can_roll, balance - collected), else_=0)))
        .join(Customer, Customer.id == Invoice.customer_id)
        .outerjoin(before, before.c.invoice_id == Invoice.id)
        .outerjoin(within, within.c.invoice_id == Invoice.id)
        .where(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= day,
               Invoice.due_date < day, balance > 0)
        .group_by(Customer.id, Customer.external_ref, Customer.tier)
        .order_by(Customer.id)).tuples()
    # Each sum to the cent (SQLite sums money as floating point; any order of adding the same
    # cents gives the same cents).
    return [AccountDay(ref, tier, money_value(total), due, money_value(got),
                       money_value(rolling), money_value(rolled))
            for ref, tier, total, due, got, rolling, rolled in rows]


def _near_events(invoices: list[Spec], probes: list[tuple[int, int]]) -> list[int]:
    """Day offsets at or next to (pick, shift) an issue date, due date or payment of the
    ledger, where an off-by-one day in a statement shows."""
    events = sorted({offset for spec in invoices
                     for offset in (spec.issued, spec.issued + spec.terms,
                                    *[on for on, _ in spec.allocations])} or {0})
    return [events[pick % len(events)] + shift for pick, shift in probes]


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=14),
       probes=st.lists(st.tuples(st.integers(0, 10_000), st.integers(-1, 1)), min_size=1,
                       max_size=5))
def test_accounts_of_several_days_at_once_are_each_days(db: Database, invoices: list[Spec],
                                                        probes: list[tuple[int, int]]) -> None:
    """Days at or next to one where something happened (an issue or due date, a payment)."""
    _clear(db)
    _build(db, invoices)
    days = [START + timedelta(days=day) for day in _near_events(invoices, probes)]
    with db.uow() as uow:
        observed = accounts_on_days(uow.session, days)
        assert sorted(observed) == sorted(set(days))
        for day in days:
            assert observed[day] == _accounts_on_one_day(uow.session, day), day


def test_a_payment_reversed_after_the_first_day_reopens_the_balance(db: Database) -> None:
    """Paid off before the first day, then a quarter reversed: owed again on the second day."""
    _clear(db)
    # Issued day 0, due day 30, paid in full on day 40, a quarter bounced on day 100.
    _build(db, [Spec(customer=0, issued=0, terms=30, cents=40_000, void=False,
                     allocations=[(40, 100), (100, -25)], currency="USD")])
    days = [START + timedelta(days=60), START + timedelta(days=110)]
    with db.uow() as uow:
        observed = accounts_on_days(uow.session, days)
        assert observed[days[0]] == []
        [account] = observed[days[1]]
        assert account.past_due == Decimal("100.00")
        for day in days:
            assert observed[day] == _accounts_on_one_day(uow.session, day)


def test_a_payment_on_a_later_day_counts_as_applied_that_day(db: Database) -> None:
    """Half paid on the second day: owed in full on the first, half on the second."""
    _clear(db)
    _build(db, [Spec(customer=0, issued=0, terms=0, cents=10_000, void=False,
                     allocations=[(10, 50)], currency="USD")])
    days = [START + timedelta(days=5), START + timedelta(days=10)]
    with db.uow() as uow:
        observed = accounts_on_days(uow.session, days)
        assert [[a.past_due for a in observed[day]] for day in days] == [
            [Decimal(100)], [Decimal(50)]]
        for day in days:
            assert observed[day] == _accounts_on_one_day(uow.session, day)


def test_the_assessment_statement_leaves_the_transactions_settings(db: Database) -> None:
    """PostgreSQL runs it without JIT and with more memory, then the transaction's own come back."""
    from sqlalchemy import text

    _clear(db)
    with db.uow() as uow:
        if uow.session.get_bind().dialect.name != "postgresql":
            accounts_on_days(uow.session, [START])
            return
        uow.session.execute(text("SET LOCAL work_mem = '5MB'"))
        uow.session.execute(text("SET LOCAL jit = on"))
        accounts_on_days(uow.session, [START, START + timedelta(days=40)])
        assert uow.session.scalar(text("SELECT current_setting('work_mem')")) == "5MB"
        assert uow.session.scalar(text("SELECT current_setting('jit')")) == "on"


def _past_due_by_the_rule(session: Session, day: date, customers: list[int]
                          ) -> dict[int, tuple[Decimal, date]]:
    """Each of `customers`' past-due balance on `day` and oldest past-due due date, every
    invoice's balance from the as-of rule itself (`open_balance_as_of`)."""
    out: dict[int, tuple[Decimal, date]] = {}
    for customer, due, balance in session.execute(
            select(Invoice.customer_id, Invoice.due_date, open_balance_as_of(day))
            .where(Invoice.customer_id.in_(customers), Invoice.status != InvoiceStatus.VOID,
                   Invoice.issue_date <= day, Invoice.due_date < day)).tuples():
        amount = money_value(balance)
        if amount > 0:
            total, oldest = out.get(customer, (Decimal(0), due))
            out[customer] = (total + amount, min(oldest, due))
    return out


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(invoices=st.lists(invoice, max_size=14), pick=st.integers(0, 10_000),
       shift=st.integers(-1, 1), chosen=st.sets(st.integers(0, 3), min_size=1))
def test_past_due_of_some_accounts_on_a_day_is_the_rules(  # noqa: PLR0913 (hypothesis)
        db: Database, invoices: list[Spec], pick: int, shift: int, chosen: set[int]) -> None:
    """What the effort query reads of the week's active accounts (`past_due_sums` for some
    customers, one day) equals the as-of rule applied invoice by invoice, on a day at or next
    to one where something happened (an issue or due date, a payment)."""
    _clear(db)
    _build(db, invoices)
    [day] = [START + timedelta(days=offset)
             for offset in _near_events(invoices, [(pick, shift)])]
    with db.uow() as uow:
        s = uow.session
        ids = list(s.scalars(select(Customer.id).order_by(Customer.id)))
        customers = [ids[n] for n in sorted(chosen)]
        sums = past_due_sums(s.get_bind().dialect, [day],
                             select(Customer.id).where(Customer.id.in_(customers)))
        got = {customer: (money_from_cents(total), date_value(oldest))
               for customer, total, oldest in s.execute(
                   select(sums.c.customer_id, raw(sums.c.past_due_0), raw(sums.c.oldest_0))
                   .where(sums.c.oldest_0.is_not(None))).tuples()}
        assert got == _past_due_by_the_rule(s, day, customers)
