"""The weekly recap filled from the metrics, the objectives and the outcome queries.

Every figure comes from the metrics code (the stored daily history or `metrics_series` for the
12-week trend, the 7-day flows of `metrics_as_of` for the week; see `recap_history`) or the
objectives' progress, so the recap never disagrees with `collectbot report`
or `/collect goals`. The few queries of its own (per-collector counts, escalations, effort against
yield, contact gaps) are set-based: one statement each, whatever the size of the book.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Double,
    Select,
    Subquery,
    and_,
    case,
    cast,
    func,
    literal_column,
    or_,
    select,
    union_all,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from bot.db.models import (
    ContactAttempt,
    Customer,
    Escalation,
    Invoice,
    Payment,
    PaymentAllocation,
)
from bot.db.models import Policy as PolicyRow
from bot.db.models import PromiseToPay as Promise
from bot.db.sql import (
    cents_of,
    date_value,
    driver_rows,
    inline_date,
    moment_value,
    money_from_cents,
    one_off_plan,
    raw,
    scan_key,
    unindexed,
)
from bot.domain.aging import Bucket, bucket_for
from bot.domain.assessment import (
    AccountOutcome,
    DiffInDiff,
    EffortRow,
    GapRow,
    HoldoutComparison,
    Window,
    balance_band,
    compare_holdout,
    did_windows,
    difference_in_differences,
    effort_against_yield,
    payment_rate_by_gap,
)
from bot.domain.calendar import LocalDates, local_date
from bot.domain.holdout import is_held_out, strategy_key, strategy_versions
from bot.domain.metrics import Metrics, MetricsReport
from bot.domain.policy import Policy, Segment, SegmentIndex, policy_from_dict
from bot.domain.recap import (
    CallsPlan,
    CollectorWeek,
    EscalationWeek,
    Kpi,
    Recap,
    StrategyAssessment,
    WeekPoint,
)
from bot.domain.vocabulary import (
    CALL_OUTCOMES,
    RIGHT_PARTY_OUTCOMES,
    InvoiceStatus,
    PromiseStatus,
)
from bot.services.ledger import (
    balance_given_applied,
    clamped_invoices,
    owed_now_and_applied_after,
)
from bot.services.metrics import MetricsConfig
from bot.services.objectives import objectives_progress
from bot.services.recap_history import flows_as_of, team_stocks

WEEKS = 12
GAP_WINDOW_DAYS = 84  # contacts whose 30-day outcome is known, over the last 12 weeks
PAID_WITHIN_DAYS = 30
_ZERO = Decimal(0)


def week_of(as_of: date) -> tuple[date, date]:
    """The 7 days ending on `as_of` (inclusive)."""
    return as_of - timedelta(days=6), as_of


def _start(day: date, config: MetricsConfig) -> datetime:
    return datetime.combine(day, time.min, config.zone)


def past_due_ar(metrics: Metrics) -> Decimal:
    return metrics.total_ar - metrics.current_ar


def kpis(now: Metrics, before: Metrics, week: Metrics, last_week: Metrics) -> tuple[Kpi, ...]:
    """The headline figures: stocks from the 90-day metrics, flows from the week's."""
    return (
        Kpi("dso", "DSO", "days", now.dso, before.dso, lower_is_better=True),
        Kpi("cei", "CEI", "percent", now.cei, before.cei),
        Kpi("percent_current", "AR current", "percent", now.percent_current,
            before.percent_current),
        Kpi("past_due_ar", "Past-due AR", "money", past_due_ar(now), past_due_ar(before),
            lower_is_better=True),
        Kpi("cash_collected", "Cash collected", "money", week.cash_collected,
            last_week.cash_collected),
        Kpi("cost_per_dollar_collected", "Cost per $ collected", "ratio",
            week.cost_per_dollar_collected, last_week.cost_per_dollar_collected,
            lower_is_better=True),
    )


def escalation_times() -> Select[tuple[datetime, datetime | None]]:
    """When each escalation was opened and closed (None: still open).

    The one place the recap reads the escalations table, so a reshaped table needs one change.
    """
    return select(Escalation.created_at.label("opened_at"),
                  Escalation.closed_at.label("closed_at"))


def escalation_week(session: Session, first: datetime, end: datetime) -> EscalationWeek:
    """Opened and closed in [first, end), and open at `end`."""
    times = escalation_times().subquery()
    opened, closed, open_now = session.execute(select(
        func.count().filter(and_(times.c.opened_at >= first, times.c.opened_at < end)),
        func.count().filter(and_(times.c.closed_at >= first, times.c.closed_at < end)),
        func.count().filter(and_(times.c.opened_at < end,
                                 or_(times.c.closed_at.is_(None), times.c.closed_at >= end))),
    )).one()
    return EscalationWeek(int(opened), int(closed), int(open_now))


def collector_weeks(session: Session, report: MetricsReport, first: date, last: date,
                    config: MetricsConfig) -> tuple[CollectorWeek, ...]:
    """Per collector: the week's calls, cash and target from the metrics; contacts and promises
    from one grouped query each."""
    start, end = _start(first, config), _start(last + timedelta(days=1), config)
    contacts = dict(session.execute(
        select(ContactAttempt.collector_id, func.count())
        .where(ContactAttempt.at >= start, ContactAttempt.at < end,
               ContactAttempt.outcome.in_(sorted(RIGHT_PARTY_OUTCOMES)))
        .group_by(ContactAttempt.collector_id)).tuples().all())
    made = dict(session.execute(
        select(Promise.collector_id, func.count())
        .where(Promise.created_at >= start, Promise.created_at < end)
        .group_by(Promise.collector_id)).tuples().all())
    resolved: dict[tuple[int, str], int] = {
        (collector, str(status)): int(n) for collector, status, n in session.execute(
            select(Promise.collector_id, Promise.status, func.count())
            .where(Promise.resolved_on >= first, Promise.resolved_on <= last)
            .group_by(Promise.collector_id, Promise.status)).tuples()}
    out = []
    for line in report.by_collector:
        if line.collector_id is None:
            continue
        c, m = line.collector_id, line.metrics
        out.append(CollectorWeek(
            name=line.name, slack_id=line.slack_user_id, calls=m.calls_made,
            calls_target=m.calls_target, right_party_contacts=int(contacts.get(c, 0)),
            promises_made=int(made.get(c, 0)),
            promises_kept=resolved.get((c, PromiseStatus.KEPT.value), 0)
            + resolved.get((c, PromiseStatus.PARTIALLY_KEPT.value), 0),
            promises_broken=resolved.get((c, PromiseStatus.BROKEN.value), 0),
            cash_collected=m.cash_collected))
    return tuple(out)


def effort(session: Session, first: date, last: date, config: MetricsConfig
           ) -> list[EffortRow]:
    """The week's calls and cash per (aging bucket × balance size) of the account at the start."""
    start, end = _start(first, config), _start(last + timedelta(days=1), config)
    calls = dict(session.execute(
        select(ContactAttempt.customer_id, func.count())
        .where(ContactAttempt.at >= start, ContactAttempt.at < end,
               ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))
        .group_by(ContactAttempt.customer_id)).tuples().all())
    cash = dict(session.execute(
        select(Payment.customer_id, func.sum(Payment.amount))
        .where(Payment.paid_on >= first, Payment.paid_on <= last)
        .group_by(Payment.customer_id)).tuples().all())
    active = (select(ContactAttempt.customer_id)
              .where(ContactAttempt.at >= start, ContactAttempt.at < end)
              .union(select(Payment.customer_id)
                     .where(Payment.paid_on >= first, Payment.paid_on <= last))).subquery()
    sums = past_due_sums(session.get_bind().dialect, [first - timedelta(days=1)],
                         select(active.c.customer_id))
    segments: dict[int, tuple[Bucket, str]] = {
        customer: (bucket_for(_day(due), first), balance_band(money_from_cents(total)))
        for customer, total, due in driver_rows(session.connection(), select(
            sums.c.customer_id, raw(sums.c.past_due_0), raw(sums.c.oldest_0))
            .where(sums.c.oldest_0.is_not(None)))}
    call_sums: dict[tuple[Bucket, str], int] = defaultdict(int)
    cash_sums: dict[tuple[Bucket, str], Decimal] = defaultdict(Decimal)
    for customer, n in calls.items():
        if customer in segments:
            call_sums[segments[customer]] += int(n)
    for customer, amount in cash.items():
        if customer in segments:
            cash_sums[segments[customer]] += Decimal(amount)
    return effort_against_yield(call_sums, cash_sums)


def contact_gaps(session: Session, as_of: date, config: MetricsConfig) -> list[GapRow]:
    """Contacts of the 12 weeks whose 30-day outcome is known: days since the account's previous
    contact (a window function) and whether a payment followed within 30 days."""
    last = as_of - timedelta(days=PAID_WITHIN_DAYS)
    first = last - timedelta(days=GAP_WINDOW_DAYS - 1)
    since, until = _start(first, config), _start(last + timedelta(days=1), config)
    previous = func.lag(ContactAttempt.at, type_=ContactAttempt.at.type).over(
        partition_by=ContactAttempt.customer_id, order_by=(ContactAttempt.at, ContactAttempt.id))
    ordered = (select(ContactAttempt.customer_id, ContactAttempt.at, previous.label("prev"))
               .where(ContactAttempt.at < until,
                      ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))).subquery()
    # Tens of thousands of timestamps: read as the driver gives them, parsed in C.
    rows = driver_rows(session.connection(), select(
        ordered.c.customer_id, raw(ordered.c.at), raw(ordered.c.prev))
        .where(ordered.c.at >= since))
    if not rows:
        return []
    # Only the payments of accounts called in the window (SQLite reads them by date, not by
    # account: scan_key).
    called = select(ContactAttempt.customer_id).where(ContactAttempt.at >= since,
                                                      ContactAttempt.at < until)
    paid: dict[int, list[date]] = defaultdict(list)
    days_paid: dict[object, date] = {}  # a hundred-odd dates (SQLite: text), each read once
    for customer, on in driver_rows(session.connection(), (
            select(Payment.customer_id, raw(Payment.paid_on))
            .where(Payment.paid_on > first, Payment.paid_on <= as_of,
                   scan_key(session.get_bind().dialect, Payment.customer_id).in_(called))
            .order_by(Payment.paid_on))):
        day = days_paid.get(on)
        if day is None:
            day = days_paid[on] = _day(on)
        paid[customer].append(day)
    local = LocalDates(config.zone)
    window = timedelta(days=PAID_WITHIN_DAYS)
    observations = []
    for customer, at, prev in rows:
        day = local(_moment(at))
        gap = None if prev is None else (day - local(_moment(prev))).days
        days = paid.get(customer, [])
        index = bisect_right(days, day)
        observations.append((gap, index < len(days) and days[index] <= day + window))
    return payment_rate_by_gap(observations)


def _moment(value: object) -> datetime:
    moment = moment_value(value)
    assert moment is not None  # a NOT NULL column, or a lag checked first
    return moment


def _day(value: object) -> date:
    day = date_value(value)
    assert day is not None  # a NOT NULL column
    return day


def _local(moment: datetime, config: MetricsConfig) -> date:
    return local_date(moment, config.zone)


# -- the assessment ------------------------------------------------------------------------------

OUTCOME = "past-due collected within 30 days"
LAST_ROLLING_DAY = 120  # past that, 120+ is the last bucket: nothing rolls further
SAMPLE_EVERY_DAYS = 28  # accounts are observed on the first day of each window and every 4 weeks


@dataclass(frozen=True, slots=True)
class AccountDay:
    """One account observed on a day: its segment inputs and its two 30-day outcomes' sums."""

    external_ref: str
    tier: str
    past_due: Decimal
    oldest_due: date
    collected: Decimal  # of that past-due balance, applied in the 30 days after the day
    rolling: Decimal  # the part of it 1-120 days past due, which can still roll a bucket on
    rolled: Decimal  # of `rolling`, what was still unpaid 30 days later: a bucket older by then


def accounts_on(session: Session, day: date) -> list[AccountDay]:
    """Every account with something past due on `day`, how much of it was collected in the next
    30 days and how much rolled to the next bucket (buckets are 30 days wide, so what is unpaid
    30 days on is a bucket older)."""
    return accounts_on_days(session, [day])[day]


def accounts_on_days(session: Session, days: Iterable[date]) -> dict[date, list[AccountDay]]:
    """`accounts_on` for several days from one grouped statement (`past_due_sums`), accounts
    in id order."""
    days = sorted(set(days))
    if not days:
        return {}
    sums = past_due_sums(session.get_bind().dialect, days)
    columns = [sums.c[f"{name}_{n}"] for n in range(len(days)) for name in _SUMS]
    with one_off_plan(session):
        # Read as the driver returns them: most of a row's days have no past due, nothing to
        # convert.
        rows = driver_rows(session.connection(), (
            select(Customer.external_ref, Customer.tier, *[raw(column) for column in columns])
            .join(sums, sums.c.customer_id == Customer.id)
            .order_by(sums.c.customer_id)))
    out: dict[date, list[AccountDay]] = {day: [] for day in days}
    width = len(_SUMS)
    due_dates: dict[object, date] = {}  # a few hundred due dates (SQLite: text), each read once
    for ref, tier, *values in rows:
        for n, day in enumerate(days):
            at = n * width
            total, due, got, rolling, rolled = values[at:at + width]
            if due is None:  # nothing past due that day
                continue
            oldest = due_dates.get(due)
            if oldest is None:
                oldest = due_dates[due] = _day(due)
            out[day].append(AccountDay(ref, tier, money_from_cents(total), oldest,
                                       money_from_cents(got), money_from_cents(rolling),
                                       money_from_cents(rolled)))
    return out


_SUMS = ("past_due", "oldest", "collected", "rolling", "rolled")


def past_due_sums(dialect: Dialect, days: Sequence[date], customers: Any = None) -> Subquery:
    """Per account (customer_id), on each of `days` (n in their order): its past-due balance
    (past_due_n, whole cents: `money_from_cents`), its oldest past-due due date (oldest_n; None:
    nothing past due that day), what of that balance was applied in the next 30 days
    (collected_n) and the part of it 1-120 days past due (rolling_n) and of that part what was
    still unpaid 30 days on (rolled_n). One grouped pass over the invoices owing now and the
    allocations applied since the first day; `customers`: only those (a subquery of ids)."""
    first, last = min(days), max(days)
    # Only an invoice issued and due before the last day can be past due on a day; SQLite
    # reads the table rather than walk most of it through the due-date index.
    in_book = and_(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= inline_date(last),
                   unindexed(dialect, Invoice.due_date) < inline_date(last))
    if customers is not None:
        in_book = and_(in_book, Invoice.customer_id.in_(customers))
    # Money as whole cents in doubles (`cents_of`): the grouping below sums 4 of them a day.
    # Zero of the same type, so PostgreSQL can append the union's parts as one relation and
    # read them in parallel.
    nothing = cast(literal_column("0"), Double)

    # Most invoices: a row per invoice owing now and per allocation since the first day, whose
    # sums per account are the balances and collected sums (`owed_now_and_applied_after`):
    # what an invoice owes on a day is never clamped, and what was applied in the 30 days
    # after is within it, so neither needs the invoice's allocations grouped.
    def parts(amount: Any, applied_on: Any) -> list[ColumnElement[Any]]:
        cents = cents_of(dialect, amount)
        columns: list[ColumnElement[Any]] = [
            Invoice.customer_id.label("customer_id"), Invoice.issue_date.label("issue_date"),
            Invoice.due_date.label("due_date")]
        for n, day in enumerate(days):
            if applied_on is None:
                columns += [cents.label(f"balance_{n}"), nothing.label(f"collected_{n}")]
                continue
            later = applied_on > inline_date(day)
            within = and_(later, applied_on
                          <= inline_date(day + timedelta(days=PAID_WITHIN_DAYS)))
            columns += [case((later, cents), else_=nothing).label(f"balance_{n}"),
                        case((within, cents), else_=nothing).label(f"collected_{n}")]
        return columns

    regular = owed_now_and_applied_after(
        dialect, first,
        and_(in_book, Invoice.id.not_in(clamped_invoices())), parts)
    # The few the clamp may change (none the import builds): each invoice grouped with its
    # allocations, the rule applied as written.
    amount, applied_on = PaymentAllocation.amount, PaymentAllocation.applied_on
    per_day: list[ColumnElement[Any]] = []
    for n, day in enumerate(days):
        later_end = inline_date(day + timedelta(days=PAID_WITHIN_DAYS))
        before = func.coalesce(func.sum(case((applied_on <= inline_date(day), amount))), 0)
        later = func.coalesce(func.sum(case((
            and_(applied_on > inline_date(day), applied_on <= later_end), amount))), 0)
        balance = balance_given_applied(before)
        per_day += [cents_of(dialect, balance).label(f"balance_{n}"),
                    cents_of(dialect, case((later > balance, balance), (later < 0, 0),
                                           else_=later)).label(f"collected_{n}")]
    clamped = (
        select(Invoice.customer_id.label("customer_id"), Invoice.issue_date, Invoice.due_date,
               *per_day)
        .outerjoin(PaymentAllocation, PaymentAllocation.invoice_id == Invoice.id)
        .where(in_book, Invoice.id.in_(clamped_invoices()))
        .group_by(Invoice.id, Invoice.customer_id, Invoice.issue_date, Invoice.due_date,
                  Invoice.amount))
    per_invoice_rows = union_all(*regular.selects, clamped).subquery()
    c = per_invoice_rows.c
    sums: list[ColumnElement[Any]] = []
    for n, day in enumerate(days):
        balance, collected = c[f"balance_{n}"], c[f"collected_{n}"]
        past_due = and_(c.issue_date <= inline_date(day), c.due_date < inline_date(day),
                        balance > 0)
        can_roll = and_(past_due,
                        c.due_date >= inline_date(day - timedelta(days=LAST_ROLLING_DAY)))
        sums += [func.sum(case((past_due, balance))).label(f"past_due_{n}"),
                 func.min(case((past_due, c.due_date))).label(f"oldest_{n}"),
                 func.sum(case((past_due, collected))).label(f"collected_{n}"),
                 func.sum(case((can_roll, balance), else_=0)).label(f"rolling_{n}"),
                 func.sum(case((can_roll, balance - collected), else_=0)).label(f"rolled_{n}")]
    return select(c.customer_id, *sums).group_by(c.customer_id).subquery()


def _sample_days(window: Window) -> list[date]:
    return [window.start + timedelta(days=n)
            for n in range(0, window.days, SAMPLE_EVERY_DAYS)]


def segments_of(policy: Policy, day: date, accounts: Iterable[AccountDay]) -> list[str]:
    """The segment each account observed on `day` was in (the same for every strategy)."""
    index = SegmentIndex(policy)
    buckets: dict[date, Bucket] = {}  # accounts share their oldest due dates
    names = []
    for account in accounts:
        bucket = buckets.get(account.oldest_due)
        if bucket is None:
            bucket = buckets[account.oldest_due] = bucket_for(account.oldest_due, day)
        names.append(index.segment_for(bucket, account.past_due, account.tier).name)
    return names


@dataclass(slots=True)
class OutcomeSums:
    """The outcome sums of a group of accounts observed on one day."""

    collected: Decimal = _ZERO
    past_due: Decimal = _ZERO
    rolled: Decimal = _ZERO
    rolling: Decimal = _ZERO
    accounts: int = 0

    def add(self, account: AccountDay) -> None:
        self.collected += account.collected
        self.past_due += account.past_due
        self.rolled += account.rolled
        self.rolling += account.rolling
        self.accounts += 1

    def __add__(self, other: OutcomeSums) -> OutcomeSums:
        return OutcomeSums(self.collected + other.collected, self.past_due + other.past_due,
                           self.rolled + other.rolled, self.rolling + other.rolling,
                           self.accounts + other.accounts)

    def __sub__(self, other: OutcomeSums) -> OutcomeSums:
        return OutcomeSums(self.collected - other.collected, self.past_due - other.past_due,
                           self.rolled - other.rolled, self.rolling - other.rolling,
                           self.accounts - other.accounts)


@dataclass(frozen=True)
class ObservedDay:
    """The accounts observed on a day, the segment each was in, and the outcome sums of each
    segment and of all of them: a strategy's 'rest' is everyone less its segment."""

    accounts: list[AccountDay]
    segments: list[str]
    by_segment: dict[str, OutcomeSums]
    everyone: OutcomeSums

    @classmethod
    def of(cls, policy: Policy, day: date, accounts: list[AccountDay]) -> ObservedDay:
        names = segments_of(policy, day, accounts)
        by_segment: dict[str, OutcomeSums] = {}
        for account, name in zip(accounts, names, strict=True):
            sums = by_segment.get(name)
            if sums is None:
                sums = by_segment[name] = OutcomeSums()
            sums.add(account)
        return cls(accounts, names, by_segment, sum(by_segment.values(), OutcomeSums()))


def assess(policy: Policy, segment: Segment, version: int, windows: tuple[Window, Window],
           observed: Mapping[date, list[AccountDay]], *,
           days: dict[date, ObservedDay] | None = None,
           ) -> tuple[DiffInDiff, DiffInDiff, HoldoutComparison | None]:
    """The segment against the rest before and after (share collected, share rolled); treated
    against held out after. `days` caches each day's ObservedDay across strategies."""
    outcomes: list[AccountOutcome] = []
    rolls: list[AccountOutcome] = []
    treated: list[Decimal] = []
    held: list[Decimal] = []
    key = strategy_key(segment.name, version)
    days = {} if days is None else days
    for after, window in enumerate(windows):
        for day in _sample_days(window):
            if day not in days:
                days[day] = ObservedDay.of(policy, day, observed[day])
            seen = days[day]
            inside = seen.by_segment.get(segment.name, OutcomeSums())
            for group, in_segment in ((inside, True), (seen.everyone - inside, False)):
                if group.accounts:
                    outcomes.append(AccountOutcome(in_segment, bool(after), group.collected,
                                                   group.past_due, group.accounts))
                    rolls.append(AccountOutcome(in_segment, bool(after), group.rolled,
                                                group.rolling, group.accounts))
            if not (after and segment.holdout is not None and inside.accounts):
                continue
            for account, name in zip(seen.accounts, seen.segments, strict=True):
                if name == segment.name:
                    share = min(account.collected / account.past_due, Decimal(1))
                    arm_of = held if is_held_out(account.external_ref, key, segment.holdout) \
                        else treated
                    arm_of.append(share)
    holdout = None if segment.holdout is None else compare_holdout(treated, held)
    return difference_in_differences(outcomes), difference_in_differences(rolls), holdout


def strategies(session: Session, as_of: date, config: MetricsConfig
               ) -> tuple[StrategyAssessment, ...]:
    """Each focus segment, segment with a holdout, or segment whose rules changed since the
    first stored policy: before/after against the rest, and treated against held out."""
    rows = session.scalars(select(PolicyRow).order_by(PolicyRow.version)).all()
    if not rows:
        return ()
    history = [(row.version, policy_from_dict(row.body)) for row in rows]
    created = {row.version: local_date(row.created_at, config.zone) for row in rows}
    versions = strategy_versions(history)
    newest = history[-1][1]
    first_version = history[0][0]
    plans: list[tuple[Segment, int, date, tuple[Window, Window] | None]] = []
    for segment in newest.segments:
        version = versions[segment.name]
        if not (segment.focus or segment.holdout is not None or version != first_version):
            continue
        changed_on = created[version]
        plans.append((segment, version, changed_on, did_windows(changed_on, as_of)))
    # Every strategy's sample days observed in one statement.
    observed = accounts_on_days(session, {day for *_, windows in plans if windows is not None
                                          for window in windows for day in _sample_days(window)})
    days: dict[date, ObservedDay] = {}
    out = []
    for segment, version, changed_on, windows in plans:
        if windows is None:
            out.append(StrategyAssessment(segment.name, changed_on, OUTCOME,
                                          holdout_share=segment.holdout))
            continue
        did, roll, holdout = assess(newest, segment, version, windows, observed, days=days)
        out.append(StrategyAssessment(segment.name, changed_on, OUTCOME, did=did, roll=roll,
                                      holdout=holdout, holdout_share=segment.holdout))
    return tuple(out)


def build_recap(session: Session, as_of: date, config: MetricsConfig) -> Recap:
    """The recap of the week ending on `as_of` (inclusive)."""
    first, last = week_of(as_of)
    ends = [as_of - timedelta(weeks=n) for n in range(WEEKS - 1, -1, -1)]
    # The stocks (AR, DSO, CEI) of each week's end from the daily history; the week's flows
    # (cash, calls, cost) from the 7-day metrics of this and last week.
    stocks = team_stocks(session, ends, config)
    now, before = stocks[as_of], stocks[as_of - timedelta(days=7)]
    week = flows_as_of(session, as_of, config, period_days=7)
    last_week = flows_as_of(session, as_of - timedelta(days=7), config, period_days=7).team
    trend = tuple(WeekPoint(day, stocks[day].dso, dict(stocks[day].buckets)) for day in ends)
    objectives = tuple(objectives_progress(session, as_of, config))
    planned = next((o.plan for o in objectives if o.plan.money_needed is not None), None)
    dso_target = next((o.target for o in objectives if o.metric == "dso"), None)
    end = _start(last + timedelta(days=1), config)
    return Recap(
        week_start=first, week_end=last, objectives=objectives,
        kpis=kpis(now, before, week.team, last_week),
        calls=CallsPlan(made=week.team.calls_made, planned=week.team.calls_target,
                        needed_per_day=None if planned is None else planned.needed,
                        planned_per_day=None if planned is None else planned.planned),
        trend=trend, dso_target=dso_target,
        collectors=collector_weeks(session, week, first, last, config),
        escalations=escalation_week(session, _start(first, config), end),
        effort=tuple(effort(session, first, last, config)),
        gaps=tuple(contact_gaps(session, as_of, config)),
        strategies=strategies(session, as_of, config),
    )
