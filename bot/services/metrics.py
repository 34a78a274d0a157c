"""The metrics as of a date, for the team and each collector: the facts from SQL, the formulas
from `bot.domain.metrics`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Subquery, and_, case, func, literal, select, union_all
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from bot.db.models import (
    IRREGULAR_INVOICE,
    REVERSAL,
    ContactAttempt,
    Customer,
    Invoice,
    Payment,
    PaymentAllocation,
    PromiseToPay,
    TeamMember,
)
from bot.db.sql import driver_rows, inline_date, one_off_plan, scan_key, unindexed
from bot.domain.aging import BUCKETS, Bucket
from bot.domain.ar_history import SalesHistory, Scope, prefix_sums
from bot.domain.calendar import holiday_calendar, is_working_day, local_date
from bot.domain.metrics import (
    ROLLS,
    ZERO,
    ActivityFacts,
    LedgerFacts,
    MetricsReport,
    ScopeMetrics,
    compute_metrics,
    countback_months,
    period_first,
)
from bot.domain.vocabulary import CALL_OUTCOMES, RIGHT_PARTY_OUTCOMES, InvoiceStatus, PromiseStatus
from bot.services.ledger import (
    applied_as_of,
    balance_given_applied,
    owed_now_and_applied_after,
    payments_received,
)
from bot.services.report import bucket_case
from bot.settings import Settings

DEFAULT_PERIOD_DAYS = 90
ROLL_DAYS = 30
TEAM = "team"
CENT = Decimal("0.01")
# Buckets as their position in BUCKETS: SQL groups and sorts small integers faster than text.
BUCKET_NUMBERS = {bucket: literal(n) for n, bucket in enumerate(BUCKETS)}


@dataclass(frozen=True, slots=True)
class MetricsConfig:
    """What the metrics need from the settings: the team's zone and country, a collector-day's
    cost (None: not configured, the cost figures are null)."""

    zone: ZoneInfo
    country: str = "US"
    collector_day_cost: Decimal | None = None
    currency: str = "USD"

    @classmethod
    def from_settings(cls, settings: Settings) -> MetricsConfig:
        return cls(zone=settings.zone, country=settings.country,
                   collector_day_cost=settings.collector_day_cost, currency=settings.currency)


def cents(total: object) -> Decimal:
    """A SUM() of money, exact to the cent: SQLite sums NUMERIC as floating point (its error is
    far below a cent), PostgreSQL exactly."""
    return Decimal(total or 0).quantize(CENT)  # type: ignore[arg-type]


def sales_origin(first: date, period_days: int) -> date:
    """The first day whose sales any metric from `first` on may need (period or countback)."""
    return min(period_first(first, period_days), countback_months(first)[-1][0])


# -- the ledger ---------------------------------------------------------------------------------


def cash_received(session: Session, first: date, last: date, *,
                  scan: bool = False) -> dict[tuple[Scope, date], Decimal]:
    """Cash collected per collector and day: the money received in [first, last] (the ledger's
    one reading of it), by the paying customer's collector. `scan`: for a range that holds
    much of the payments (a year's backfill), read them in one scan rather than by date."""
    dialect = session.get_bind().dialect
    if scan:
        paid_on = unindexed(dialect, Payment.paid_on)
        received = payments_received().where(paid_on >= first, paid_on <= last).subquery()
    else:
        received = payments_received(first, last).subquery()
    rows = driver_rows(session.connection(), (
        select(Customer.collector_id, received.c.paid_on, func.sum(received.c.amount))
        .join(Customer, Customer.id == (scan_key(dialect, received.c.customer_id) if scan
                                        else received.c.customer_id))
        .group_by(Customer.collector_id, received.c.paid_on)
    ))
    return _by_day(rows)


def _by_day(rows: Iterable[Any]) -> dict[tuple[Scope, date], Decimal]:
    """(collector, day, sum) rows as the driver returns them, by (collector, day): each day's
    value (SQLite: text) read once, each sum to the cent."""
    days: dict[object, date] = {}
    out: dict[tuple[Scope, date], Decimal] = {}
    for scope, value, total in rows:
        day = days.get(value)
        if day is None:
            day = days[value] = date.fromisoformat(str(value)[:10])
        out[scope, day] = cents(total)
    return out


def credit_sales_by_day(session: Session, first: date, last: date,
                        currency: str = "USD") -> dict[tuple[Scope, date], Decimal]:
    """Amounts of non-void invoices in `currency` issued per collector and day in [first,
    last]."""
    # Tens of thousands of rows: read as the driver returns them (see `_by_day`).
    return _by_day(driver_rows(session.connection(), (
        select(Customer.collector_id, Invoice.issue_date, func.sum(Invoice.amount))
        .join(Customer, Customer.id == scan_key(session.get_bind().dialect, Invoice.customer_id))
        .where(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date >= first,
               Invoice.issue_date <= last, Invoice.currency == currency)
        .group_by(Customer.collector_id, Invoice.issue_date)
    )))


def by_scope(daily: Mapping[tuple[Scope, date], Decimal]) -> dict[Scope, dict[date, Decimal]]:
    out: dict[Scope, dict[date, Decimal]] = defaultdict(dict)
    for (scope, day), amount in daily.items():
        out[scope][day] = amount
    return out


def _issued_by(day: date) -> ColumnElement[bool]:
    return Invoice.issue_date <= inline_date(day)


def _in_scope(as_of: date, currency: str) -> ColumnElement[bool]:
    return and_(Invoice.status != InvoiceStatus.VOID, _issued_by(as_of),
                Invoice.currency == currency)


def _unclamped_rows(dialect: Dialect, as_of: date, days: Sequence[date],
                    currency: str) -> Subquery:
    """Rows (customer, due date, balance_0..n) whose sums are the invoices' balances on each
    of `days` as amount less applied (nil before the issue date), for invoices in `currency`
    issued by `as_of`: the as-of rule without a per-invoice aggregate and without its clamp
    (`_clamp_corrections` adds what the clamp changes); see `owed_now_and_applied_after`."""

    def columns(amount: Any, applied_on: Any) -> list[ColumnElement[Any]]:
        return [Invoice.customer_id.label("customer_id"), Invoice.due_date.label("due_date"),
                *[_when(_issued_by(day) if applied_on is None
                        else and_(_issued_by(day), applied_on > inline_date(day)),
                        amount, 0).label(f"balance_{n}") for n, day in enumerate(days)]]

    return owed_now_and_applied_after(dialect, min(days), _in_scope(as_of, currency),
                                      columns).subquery()


def _clamp_corrections(as_of: date, days: Sequence[date], currency: str) -> Subquery:
    """What the as-of rule's clamp (a balance within 0 and the amount) changes in
    `_unclamped_rows`, per invoice: the rule's balance less amount less applied. Only the
    invoices of `clamped_invoices` can have any: only those are read (an irregular one, then
    one with a reversal, each through its partial index; none on a ledger the import built)."""
    applied = [applied_as_of(inline_date(day)) for day in days]
    columns: list[ColumnElement[Any]] = [
        Invoice.customer_id.label("customer_id"), Invoice.due_date.label("due_date"),
        *[_when(_issued_by(day), balance_given_applied(by_then) - (Invoice.amount - by_then), 0)
          .label(f"balance_{n}") for n, (day, by_then) in enumerate(zip(days, applied,
                                                                        strict=True))]]
    reversed_invoices = select(PaymentAllocation.invoice_id).where(REVERSAL)
    return union_all(
        select(*columns).where(IRREGULAR_INVOICE, _in_scope(as_of, currency)),
        select(*columns).where(Invoice.id.in_(reversed_invoices), ~IRREGULAR_INVOICE,
                               _in_scope(as_of, currency)),
    ).subquery()


def _balances_by_bucket(session: Session, rows: Subquery, days: Sequence[date],
                        start: date) -> list[tuple[Scope, int, int, int, Any, Any, Any, Any]]:
    """The rows' balances summed per collector and bucket on each day (bucket numbers), and
    balance_0 of the invoices due before `start`."""
    c = rows.c
    buckets = [bucket_case(c.due_date, day, BUCKET_NUMBERS, inline=True) for day in days]
    return list(session.execute(
        select(
            Customer.collector_id, *buckets,
            *[func.sum(c[f"balance_{n}"]) for n in range(len(days))],
            func.sum(_when(c.due_date < inline_date(start), c.balance_0, 0)),
        )
        .select_from(rows)
        .join(Customer, Customer.id == scan_key(session.get_bind().dialect, c.customer_id))
        .group_by(Customer.collector_id, *buckets)
    ).tuples())


def _when(condition: ColumnElement[bool], value: Any, otherwise: Any = None) -> ColumnElement[Any]:
    return case((condition, value), else_=otherwise)


def ledger_facts_as_of(session: Session, as_of: date,
                       period_days: int = DEFAULT_PERIOD_DAYS,
                       currency: str = "USD") -> dict[Scope, LedgerFacts]:
    """Each collector's ledger facts on a date (unassigned accounts under None), invoices in
    `currency` only: the balances on the date, the period's start and a month back from one
    grouped pass over the invoices owing now and the allocations since the earliest day (plus
    the clamp's corrections, read through two partial indexes), then the sales and cash."""
    start = as_of - timedelta(days=period_days)
    days = (as_of, start, as_of - timedelta(days=ROLL_DAYS))
    dialect = session.get_bind().dialect
    origin = sales_origin(as_of, period_days)
    with one_off_plan(session):
        grouped = [
            *_balances_by_bucket(session, _unclamped_rows(dialect, as_of, days, currency),
                                 days, start),
            *_balances_by_bucket(session, _clamp_corrections(as_of, days, currency), days,
                                 start),
        ]
        sales = by_scope(credit_sales_by_day(session, origin, as_of, currency))
        cash = by_scope(cash_received(session, period_first(as_of, period_days), as_of))
    parts: dict[Scope, dict[str, dict[Bucket, Decimal]]] = defaultdict(
        lambda: {k: dict.fromkeys(BUCKETS, ZERO) for k in ("end", "start", "month", "rolled")})
    still_open: dict[Scope, Decimal] = defaultdict(lambda: ZERO)
    for scope, b_end, b_start, b_month, s_end, s_start, s_month, s_old in grouped:
        part = parts[scope]
        part["end"][BUCKETS[b_end]] += cents(s_end)
        part["start"][BUCKETS[b_start]] += cents(s_start)
        part["month"][BUCKETS[b_month]] += cents(s_month)
        # A month older, every invoice of a past-due bucket is in the next one: what is still
        # open of a bucket's balance a month ago is what those invoices owe today.
        part["rolled"][BUCKETS[b_month]] += cents(s_end)
        still_open[scope] += cents(s_old)
    facts: dict[Scope, LedgerFacts] = {}
    for scope in parts.keys() | sales.keys() | cash.keys():
        part = parts.get(scope) or {k: dict.fromkeys(BUCKETS, ZERO)
                                    for k in ("end", "start", "month", "rolled")}
        credit_sales, monthly = SalesHistory(prefix_sums(sales.get(scope, {}), origin, as_of),
                                             origin).facts(as_of, period_days)
        facts[scope] = LedgerFacts(
            ending=part["end"],
            beginning=part["start"],
            credit_sales=credit_sales,
            monthly_sales=monthly,
            # The cash read is the period's already.
            cash_collected=sum(cash.get(scope, {}).values(), ZERO),
            past_due_still_open=still_open.get(scope, ZERO),
            roll_from={source: part["month"][source] for source, _ in ROLLS},
            roll_to={source: part["rolled"][source] for source, _ in ROLLS},
        )
    return facts


# -- the calls ----------------------------------------------------------------------------------


def _day_start(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


@dataclass
class DailyActivity:
    """Calls, right-party contacts and resolved promises per collector and day."""

    calls: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    right_party: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    promises: dict[tuple[int, date], int] = field(default_factory=lambda: defaultdict(int))
    kept_weight: dict[tuple[int, date], Decimal] = field(
        default_factory=lambda: defaultdict(lambda: ZERO))


def daily_activity(session: Session, first: date, last: date, zone: ZoneInfo) -> DailyActivity:
    """Every call and resolved promise from `first` to `last` (team zone days), per day."""
    out = DailyActivity()
    attempts = session.execute(
        select(ContactAttempt.collector_id, ContactAttempt.at, ContactAttempt.outcome).where(
            ContactAttempt.at >= _day_start(first, zone),
            ContactAttempt.at < _day_start(last + timedelta(days=1), zone),
            ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)),
        )
    ).tuples()
    for collector_id, at, outcome in attempts:
        key = (collector_id, local_date(at, zone))
        out.calls[key] += 1
        if outcome in RIGHT_PARTY_OUTCOMES:
            out.right_party[key] += 1
    # A promise counts on its promised date once it is kept, partly kept or broken.
    promises = session.execute(
        select(PromiseToPay.collector_id, PromiseToPay.promised_date, PromiseToPay.status,
               PromiseToPay.amount, PromiseToPay.amount_received).where(
            PromiseToPay.promised_date >= first, PromiseToPay.promised_date <= last,
            PromiseToPay.status.in_([PromiseStatus.KEPT, PromiseStatus.PARTIALLY_KEPT,
                                     PromiseStatus.BROKEN]),
        )
    ).tuples()
    for collector_id, day, status, amount, received in promises:
        key = (collector_id, day)
        out.promises[key] += 1
        if status is PromiseStatus.KEPT:
            out.kept_weight[key] += 1
        elif status is PromiseStatus.PARTIALLY_KEPT and amount:
            out.kept_weight[key] += min(Decimal(received) / Decimal(amount), Decimal(1))
    return out


def active_collectors(session: Session) -> list[TeamMember]:
    return list(session.scalars(
        select(TeamMember).where(TeamMember.active.is_(True), TeamMember.role == "collector")
        .order_by(TeamMember.id)
    ))


class ActivityTotals:
    """Running totals of each collector's activity from `origin` to `last`, so the facts of
    any period inside are a subtraction. Targets and collector-days count the collectors on the
    roster now, on their working days that are not holidays."""

    def __init__(self, activity: DailyActivity, collectors: list[TeamMember], origin: date,
                 last: date, holidays: Mapping[date, str]) -> None:
        self.origin = origin
        self.roster = {m.id: m for m in collectors}
        ids = ({key[0] for key in activity.calls} | {key[0] for key in activity.promises}
               | self.roster.keys())
        self.sums: dict[int, list[tuple[int, int, int, Decimal, int]]] = {}
        for collector_id in ids:
            member = self.roster.get(collector_id)
            weekdays = member.weekdays if member is not None else None  # parsed once
            running = (0, 0, 0, ZERO, 0)
            rows = [running]
            day = origin
            while day <= last:
                key = (collector_id, day)
                working = weekdays is not None and is_working_day(day, weekdays, holidays)
                running = (running[0] + activity.calls.get(key, 0),
                           running[1] + activity.right_party.get(key, 0),
                           running[2] + activity.promises.get(key, 0),
                           running[3] + activity.kept_weight.get(key, ZERO),
                           running[4] + working)
                rows.append(running)
                day += timedelta(days=1)
            self.sums[collector_id] = rows

    def facts(self, first: date, last: date) -> dict[int, ActivityFacts]:
        """Each collector's activity over [first, last] (inside the totals' range)."""
        lo, hi = (first - self.origin).days, (last - self.origin).days + 1
        out: dict[int, ActivityFacts] = {}
        for collector_id, rows in self.sums.items():
            a, b = rows[lo], rows[hi]
            member = self.roster.get(collector_id)
            working = b[4] - a[4]
            out[collector_id] = ActivityFacts(
                calls_made=b[0] - a[0],
                calls_target=working * (member.daily_call_target if member else 0),
                right_party_contacts=b[1] - a[1],
                promises_resolved=b[2] - a[2],
                promises_kept_weight=b[3] - a[3],
                collector_days=working,
            )
        return out


def holidays_for(config: MetricsConfig, first: date, last: date) -> Mapping[date, str]:
    return holiday_calendar(config.country, range(first.year, last.year + 1))


# -- both ---------------------------------------------------------------------------------------


def assemble(session: Session, as_of: date, period_days: int, config: MetricsConfig, *,
             ledger: Mapping[Scope, LedgerFacts],
             activity: Mapping[int, ActivityFacts],
             members: Mapping[int | None, TeamMember] | None = None) -> MetricsReport:
    """The team's and each collector's metrics from their facts (team = sum of all)."""
    team_ledger = LedgerFacts.total(ledger.values())
    team_activity = ActivityFacts()
    for done in activity.values():
        team_activity = team_activity.plus(done)
    cost = config.collector_day_cost
    ids = {s for s in ledger if s is not None} | set(activity)
    if members is None:
        members = {m.id: m for m in session.scalars(
            select(TeamMember).where(TeamMember.id.in_(ids)))}
    lines = [
        ScopeMetrics(
            collector_id=scope,
            slack_user_id=members[scope].slack_user_id if scope in members else None,
            name=members[scope].name if scope in members else "Unassigned",
            metrics=compute_metrics(ledger.get(scope, LedgerFacts()),
                                    activity.get(scope, ActivityFacts())
                                    if scope is not None else ActivityFacts(),
                                    period_days=period_days, collector_day_cost=cost),
        )
        for scope in [*sorted(ids), *([None] if None in ledger else [])]
        if scope is None or scope in members
    ]
    lines.sort(key=lambda line: (line.slack_user_id is None, line.name.lower()))
    team = compute_metrics(team_ledger, team_activity, period_days=period_days,
                           collector_day_cost=cost)
    return MetricsReport(as_of=as_of, period_days=period_days, team=team, by_collector=lines)


def metrics_as_of(session: Session, as_of: date, config: MetricsConfig,
                  period_days: int = DEFAULT_PERIOD_DAYS,
                  collector: int | None = None, *,
                  ledger: Mapping[Scope, LedgerFacts] | None = None) -> MetricsReport:
    """The team's and each collector's metrics for the N days ending on `as_of` (inclusive);
    with `collector`, only that collector's line is kept (the team figures stay the team's).
    `ledger`: the same day's `ledger_facts_as_of`, when the caller has it already."""
    if period_days < 1:
        raise ValueError(f"the period must be at least 1 day, got {period_days}")
    first = period_first(as_of, period_days)
    if ledger is None:
        ledger = ledger_facts_as_of(session, as_of, period_days, config.currency)
    activity = ActivityTotals(daily_activity(session, first, as_of, config.zone),
                              active_collectors(session), first, as_of,
                              holidays_for(config, first, as_of)).facts(first, as_of)
    report = assemble(session, as_of, period_days, config, ledger=ledger, activity=activity)
    if collector is not None:
        report.by_collector[:] = [s for s in report.by_collector if s.collector_id == collector]
    return report

