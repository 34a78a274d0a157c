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
    ColumnElement,
    Date,
    SQLColumnExpression,
    Subquery,
    and_,
    case,
    delete,
    func,
    insert,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from bot.db.models import ARSnapshot, Customer, Invoice, PaymentAllocation, TeamMember
from bot.db.sql import scan_key
from bot.domain.aging import Bucket
from bot.domain.ar_history import (
    Bands,
    Change,
    InvoiceHistory,
    SalesHistory,
    Scope,
    balance_on,
    facts_on,
    history_changes,
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
    credit_sales_by_day,
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


def _allocation_totals() -> Subquery:
    """Per invoice with allocations: their total and the smallest one."""
    return (
        select(PaymentAllocation.invoice_id.label("invoice_id"),
               func.sum(PaymentAllocation.amount).label("total"),
               func.min(PaymentAllocation.amount).label("smallest"))
        .group_by(PaymentAllocation.invoice_id)
        .subquery()
    )


def _plain(totals: Subquery) -> ColumnElement[bool]:
    """The balance stays within [0, amount] on every day: amount less applied, no clamping."""
    return or_(totals.c.invoice_id.is_(None),
               and_(totals.c.total <= Invoice.amount, totals.c.smallest > 0))


def _later(a: SQLColumnExpression[date], b: SQLColumnExpression[date]) -> ColumnElement[date]:
    """The later of two dates (GREATEST on PostgreSQL, max on SQLite: one CASE for both)."""
    return case((a > b, a), else_=b)


def _in_scope(currency: str, last: date) -> ColumnElement[bool]:
    return and_(Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= last,
                Invoice.currency == currency)


def _plain_changes(session: Session, since: date, last: date, currency: str) -> list[Change]:
    """Every invoice's balance changes as if its balance were amount less applied (all but a
    rare few, which `_clamped_histories` corrects), summed in SQL by (collector, due date,
    day): the amount on the first day the sweep sees the invoice (its issue, or `since`), less
    each allocation on its day (or that first day, if earlier). An invoice paid off before the
    window nets to nothing and is left out. No per-invoice aggregate: one scan of the invoices
    and one of the allocations."""
    seen = _later(Invoice.issue_date, literal(since, Date))
    customer_id = scan_key(session.get_bind().dialect, Invoice.customer_id)
    issued = (
        select(Customer.collector_id.label("scope"), Invoice.due_date.label("due"),
               seen.label("day"), Invoice.amount.label("delta"))
        .join(Customer, Customer.id == customer_id)
        .where(_in_scope(currency, last))
    )
    applied = (
        select(Customer.collector_id, Invoice.due_date, _later(PaymentAllocation.applied_on, seen),
               -PaymentAllocation.amount)
        .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
        .join(Customer, Customer.id == Invoice.customer_id)
        .where(_in_scope(currency, last), PaymentAllocation.applied_on <= last)
    )
    both = union_all(issued, applied).subquery()
    net = func.sum(both.c.delta)
    # Hundreds of thousands of plain rows: read through Core (no ORM row processing).
    rows = session.connection().execute(
        select(both.c.scope, both.c.due, both.c.day, net)
        .group_by(both.c.scope, both.c.due, both.c.day)
        .having(net != 0)
    ).tuples()
    return [(scope, due, day, Decimal(delta)) for scope, due, day, delta in rows]


def _clamped_histories(session: Session, last: date,
                       currency: str) -> tuple[list[InvoiceHistory], list[Change]]:
    """The rare invoices whose balance the as-of rule clamps: the rule at each day it moves,
    and, to take back, the plain changes `_plain_changes` counted for them."""
    totals = _allocation_totals()
    rows = session.execute(
        select(Invoice.id, Customer.collector_id, Invoice.issue_date, Invoice.due_date,
               Invoice.amount)
        .join(Customer, Customer.id == Invoice.customer_id)
        .join(totals, totals.c.invoice_id == Invoice.id)
        .where(_in_scope(currency, last), ~_plain(totals))
    ).tuples()
    invoices = {row[0]: row for row in rows}
    if not invoices:
        return [], []
    applied: dict[int, list[tuple[date, Decimal]]] = defaultdict(list)
    for invoice_id, day, amount in session.execute(
        select(PaymentAllocation.invoice_id, PaymentAllocation.applied_on,
               PaymentAllocation.amount)
        .where(PaymentAllocation.invoice_id.in_(sorted(invoices)))
    ).tuples():
        applied[invoice_id].append((day, Decimal(amount)))
    histories: list[InvoiceHistory] = []
    taken_back: list[Change] = []
    for invoice_id, scope, issued, due, amount in invoices.values():
        entries = applied[invoice_id]
        turns = sorted({issued, *(day for day, _ in entries if day > issued)})
        steps = [(day, balance_on(Decimal(amount), sum((a for on, a in entries if on <= day),
                                                       ZERO), issued=issued, day=day))
                 for day in turns]
        histories.append(InvoiceHistory(scope=scope, due=due, steps=steps))
        taken_back.append((scope, due, issued, -Decimal(amount)))
        taken_back.extend((scope, due, max(on, issued), a) for on, a in entries if on <= last)
    return histories, taken_back


def ledger_facts_series(session: Session, first: date, last: date,
                        period_days: int = DEFAULT_PERIOD_DAYS, currency: str = "USD"
                        ) -> dict[date, dict[Scope, LedgerFacts]]:
    """Every day's ledger facts from `first` to `last`, per collector, in one sweep."""
    since = first - timedelta(days=max(period_days, ROLL_DAYS))
    bands = Bands(period_days)
    clamped, taken_back = _clamped_histories(session, last, currency)
    changes = [*_plain_changes(session, since, last, currency), *taken_back,
               *history_changes(clamped, last)]
    series = sweep_bands(changes, since, last, bands)
    origin = sales_origin(first, period_days)
    sales = by_scope(credit_sales_by_day(session, origin, last, currency))
    # Cash counts over each day's period only (sales go back to the countback's months).
    cash = by_scope(cash_received(session, period_first(first, period_days), last))
    empty = [[0] * bands.size()] * ((last - since).days + 1)
    out: dict[date, dict[Scope, LedgerFacts]] = {}
    scopes = series.keys() | sales.keys() | cash.keys()
    sales_sums = {s: SalesHistory(prefix_sums(sales.get(s, {}), origin, last), origin)
                  for s in scopes}
    cash_sums = {s: prefix_sums(cash.get(s, {}), origin, last) for s in scopes}
    day = first
    while day <= last:
        index = (day - since).days
        out[day] = {
            scope: facts_on(bands, series.get(scope, empty), index, period_days,
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
