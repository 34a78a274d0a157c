"""The daily history: each day's AR by bucket and metrics, for the team and each collector.

A range of days is computed in one pass: the invoices' balance steps are loaded once and swept
in date order (`bot.domain.ar_history`), never one query per day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Date,
    SQLColumnExpression,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db.models import ARSnapshot, Customer, Invoice, PaymentAllocation, TeamMember
from bot.db.sql import date_value, driver_rows, one_off_plan, scan_key
from bot.domain.aging import Bucket
from bot.domain.ar_history import (
    Bands,
    BandSeries,
    InvoiceHistory,
    SalesHistory,
    Scope,
    balance_on,
    facts_on,
    from_cents,
    history_changes,
    in_cents,
    prefix_sums,
    sweep_bands,
)
from bot.domain.calendar import local_date
from bot.domain.metrics import ZERO, LedgerFacts, MetricsReport, metrics_json, period_first
from bot.domain.vocabulary import InvoiceStatus
from bot.services.metrics import (
    DEFAULT_PERIOD_DAYS,
    ROLL_DAYS,
    TEAM,
    ActivityTotals,
    MetricsConfig,
    active_collectors,
    assemble,
    by_scope,
    cash_received,
    daily_activity,
    holidays_for,
    sales_origin,
)

BACKFILL_DAYS = 365
BUCKET_COLUMNS = {
    Bucket.CURRENT: "current", Bucket.DAYS_1_30: "days_1_30", Bucket.DAYS_31_60: "days_31_60",
    Bucket.DAYS_61_90: "days_61_90", Bucket.DAYS_91_120: "days_91_120",
    Bucket.DAYS_120_PLUS: "days_120_plus",
}


def _later(a: SQLColumnExpression[date], b: SQLColumnExpression[date]) -> ColumnElement[date]:
    """The later of two dates (GREATEST on PostgreSQL, max on SQLite: one CASE for both)."""
    return case((a > b, a), else_=b)


def _in_scope(currency: str, last: date) -> ColumnElement[bool]:
    return and_(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= last,
                Invoice.currency == currency)


def _clamped() -> ColumnElement[bool]:
    """The invoices whose balance the as-of rule may clamp to 0 or to the amount on some day:
    a negative amount, more paid than the amount, or a negative allocation (a reversal). Any
    other invoice's balance is its amount less what was applied by the day."""
    reversed_ = select(PaymentAllocation.invoice_id).where(PaymentAllocation.amount < 0)
    return or_(Invoice.amount < 0, Invoice.amount_paid > Invoice.amount,
               Invoice.id.in_(reversed_))


def _cents_sum(amount: ColumnElement[Any]) -> ColumnElement[int]:
    """SUM() of money as integer cents (SQLite sums NUMERIC as floating point: rounded)."""
    return cast(func.round(func.sum(amount) * 100), BigInteger)


class _DayIndex(dict[object, int]):
    """Dates as the driver returns them (SQLite: text) as days after `first`: hundreds of
    thousands of rows share a few hundred dates, each read once (`index[value]`)."""

    def __init__(self, first: date) -> None:
        super().__init__()
        self.first = first

    def __missing__(self, value: object) -> int:
        day = date_value(value)
        assert day is not None
        index = self[value] = (day - self.first).days
        return index


def _plain_rows(session: Session, since: date, last: date,
                currency: str) -> list[tuple[Scope, object, object, object, int]]:
    """The invoices that are not clamped, summed in SQL by (collector, due date, issue date,
    day). The ledger keeps amount paid equal to the sum of the allocations, so an invoice's
    amount is its balance today (amount less amount paid: no day) plus its allocations, each
    with a day: the first day the sweep sees the invoice (its issue, or `since`) if it was
    applied by then (it never counts), the day it was applied in the window (it counts from
    the first day to that one), none after `last` (it counts on every day). All of it is
    the invoices' credit sales. One scan of the invoices and one of the allocations: no
    per-invoice aggregate, nothing per invoice reaches Python."""
    dialect = session.get_bind().dialect
    seen = _later(Invoice.issue_date, literal(since, Date))
    plain = and_(_in_scope(currency, last), ~_clamped())
    owed = (
        select(Customer.collector_id.label("scope"), Invoice.due_date.label("due"),
               Invoice.issue_date.label("issued"), null().label("day"),
               (Invoice.amount - Invoice.amount_paid).label("amount"))
        .join(Customer, Customer.id == scan_key(dialect, Invoice.customer_id))
        .where(plain, Invoice.amount != Invoice.amount_paid)
    )
    applied_on = PaymentAllocation.applied_on
    applied = (
        select(Customer.collector_id, Invoice.due_date, Invoice.issue_date,
               case((applied_on <= seen, seen), (applied_on <= last, applied_on)),
               PaymentAllocation.amount)
        .select_from(PaymentAllocation)
        .join(Invoice, Invoice.id == scan_key(dialect, PaymentAllocation.invoice_id))
        .join(Customer, Customer.id == scan_key(dialect, Invoice.customer_id))
        .where(plain)
    )
    both = union_all(owed, applied).subquery()
    keys = (both.c.scope, both.c.due, both.c.issued, both.c.day)
    return driver_rows(session.connection(),
                       select(*keys, _cents_sum(both.c.amount)).group_by(*keys))


def _clamped_histories(session: Session, last: date,
                       currency: str) -> list[tuple[InvoiceHistory, date, Decimal]]:
    """The rare invoices `_plain_rows` leaves out: the as-of rule at each day their balance
    moves, with their issue date and amount (their credit sales)."""
    rows = session.execute(
        select(Invoice.id, Customer.collector_id, Invoice.issue_date, Invoice.due_date,
               Invoice.amount)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(_in_scope(currency, last), _clamped())
    ).tuples()
    invoices = {row[0]: row for row in rows}
    if not invoices:
        return []
    applied: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, day, amount in session.execute(
        select(PaymentAllocation.invoice_id, PaymentAllocation.applied_on,
               PaymentAllocation.amount)
        .where(PaymentAllocation.invoice_id.in_(sorted(invoices)))
    ).tuples():
        applied[invoice_id].append((day, Decimal(amount)))
    out = []
    for invoice_id, scope, issued, due, amount in invoices.values():
        entries = applied[invoice_id]
        turns = sorted({issued, *(day for day, _ in entries if day > issued)})
        steps = [(day, balance_on(Decimal(amount), sum((a for on, a in entries if on <= day),
                                                       ZERO), issued=issued, day=day))
                 for day in turns]
        out.append((InvoiceHistory(scope=scope, due=due, steps=steps), issued, Decimal(amount)))
    return out


def _balance_changes(session: Session, since: date, last: date, currency: str
                     ) -> tuple[list[list[tuple[Scope, int, int]]], dict[Scope, dict[int, int]]]:
    """Each day's balance changes from `since` to `last` (by collector and due date, in
    cents; the days as days after `since`), and the credit sales per collector and issue day
    (in cents, from the oldest invoice on)."""
    days = (last - since).days + 1
    events: list[list[tuple[Scope, int, int]]] = [[] for _ in range(days)]
    sales_cents: dict[Scope, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    index = _DayIndex(since)
    # What each (collector, due date) owes from the first day the sweep sees its invoices.
    opened: dict[tuple[Scope, int, int], int] = defaultdict(int)
    for scope, due, issued, day, cents in _plain_rows(session, since, last, currency):
        issue_index = index[issued]
        sales_cents[scope][issue_index] += cents
        if not cents:
            continue
        due_index = index[due]
        seen = issue_index if issue_index > 0 else 0
        if day is None:
            opened[scope, due_index, seen] += cents
        elif (applied := index[day]) != seen:
            opened[scope, due_index, seen] += cents
            events[applied].append((scope, due_index, -cents))
    for (scope, due_index, seen), cents in opened.items():
        if cents:
            events[seen].append((scope, due_index, cents))
    clamped = _clamped_histories(session, last, currency)
    for history, issued, amount in clamped:
        sales_cents[history.scope][(issued - since).days] += in_cents(amount)
    for scope, due_index, day_index, cents in history_changes(
            (history for history, _, _ in clamped), since, last):
        events[max(day_index, 0)].append((scope, due_index, cents))
    return events, sales_cents


def ledger_facts_series(session: Session, first: date, last: date,
                        period_days: int = DEFAULT_PERIOD_DAYS, currency: str = "USD"
                        ) -> dict[date, dict[Scope, LedgerFacts]]:
    """Every day's ledger facts from `first` to `last`, per collector, in one sweep."""
    since = first - timedelta(days=max(period_days, ROLL_DAYS))
    bands = Bands(period_days)
    days = (last - since).days + 1
    with one_off_plan(session):
        events, sales_cents = _balance_changes(session, since, last, currency)
    series = sweep_bands(events, bands)
    origin = sales_origin(first, period_days)
    since_origin = (origin - since).days
    sales = {scope: {since + timedelta(days=day): from_cents(cents)
                     for day, cents in daily.items() if day >= since_origin}
             for scope, daily in sales_cents.items()}
    sales = {scope: daily for scope, daily in sales.items() if daily}
    # Cash counts over each day's period only (sales go back to the countback's months).
    cash = by_scope(cash_received(session, period_first(first, period_days), last,
                                      scan=True))
    empty = [[0] * bands.size()] * days
    out: dict[date, dict[Scope, LedgerFacts]] = {}
    scopes = series.keys() | sales.keys() | cash.keys()
    sales_sums = {s: SalesHistory(prefix_sums(sales.get(s, {}), origin, last), origin)
                  for s in scopes}
    cash_sums = {s: prefix_sums(cash.get(s, {}), origin, last) for s in scopes}
    band_series = {s: BandSeries(bands, series.get(s, empty)) for s in scopes}
    day = first
    while day <= last:
        position = (day - since).days
        out[day] = {
            scope: facts_on(band_series[scope], position, period_days,
                            sales=sales_sums[scope], cash=cash_sums[scope], origin=origin,
                            as_of=day)
            for scope in scopes
        }
        day += timedelta(days=1)
    return out


def metrics_series(session: Session, first: date, last: date, config: MetricsConfig,
                   period_days: int = DEFAULT_PERIOD_DAYS) -> dict[date, MetricsReport]:
    """`metrics_as_of` for every day from `first` to `last`, computed in one pass."""
    ledger = ledger_facts_series(session, first, last, period_days, config.currency)
    origin = period_first(first, period_days)
    totals = ActivityTotals(daily_activity(session, origin, last, config.zone),
                            active_collectors(session), origin, last,
                            holidays_for(config, origin, last))
    members: dict[int | None, TeamMember] = {m.id: m for m in session.scalars(select(TeamMember))}
    return {
        day: assemble(session, day, period_days, config, ledger=facts,
                      activity=totals.facts(period_first(day, period_days), day),
                      members=members)
        for day, facts in ledger.items()
    }


def scope_key(collector_id: int | None, slack_user_id: str | None) -> str:
    if slack_user_id is None:
        return "unassigned"
    return f"member:{collector_id}"


def _rows(report: MetricsReport) -> Iterator[dict[str, Any]]:
    lines = [(TEAM, None, report.team),
             *((scope_key(s.collector_id, s.slack_user_id), s.collector_id, s.metrics)
               for s in report.by_collector)]
    for scope, collector_id, metrics in lines:
        yield {
            "snapshot_date": report.as_of, "scope": scope, "collector_id": collector_id,
            "period_days": report.period_days, "total_ar": metrics.total_ar,
            **{BUCKET_COLUMNS[b]: v for b, v in metrics.buckets.items()},
            "metrics": metrics_json(metrics),
        }


def store_snapshots(session: Session, first: date, last: date, config: MetricsConfig,
                    period_days: int = DEFAULT_PERIOD_DAYS) -> int:
    """Compute and (re)write the snapshots of [first, last]; returns the days written."""
    if last < first:
        return 0
    reports = metrics_series(session, first, last, config, period_days)
    session.execute(delete(ARSnapshot).where(
        and_(ARSnapshot.snapshot_date >= first, ARSnapshot.snapshot_date <= last)))
    rows = [row for report in reports.values() for row in _rows(report)]
    if rows:
        session.execute(insert(ARSnapshot), rows)
    return len(reports)


@dataclass(frozen=True, slots=True)
class SnapshotRun:
    first: date | None
    last: date
    days: int

    def summary(self) -> str:
        if not self.days:
            return f"snapshots: up to date through {self.last.isoformat()}"
        assert self.first is not None
        return (f"snapshots: {self.days} day(s) stored, {self.first.isoformat()} to "
                f"{self.last.isoformat()}")


def run_snapshots(session: Session, now: datetime, config: MetricsConfig) -> SnapshotRun:
    """Store every day that ended (team zone) and has no snapshot yet: yesterday, the days a
    stopped scheduler missed, or a year of history on the first run."""
    yesterday = local_date(now, config.zone) - timedelta(days=1)
    newest = session.scalar(select(func.max(ARSnapshot.snapshot_date)))
    first = (newest + timedelta(days=1) if newest is not None
             else yesterday - timedelta(days=BACKFILL_DAYS - 1))
    days = store_snapshots(session, first, yesterday, config)
    return SnapshotRun(first=first if days else None, last=yesterday, days=days)


def backfill(session: Session, today: date, config: MetricsConfig,
             days: int = BACKFILL_DAYS) -> int:
    """After an import: rewrite the year of history before `today` from the ledger."""
    return store_snapshots(session, today - timedelta(days=days), today - timedelta(days=1),
                           config)
