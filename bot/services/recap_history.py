"""What the recap reads of the metrics: the stored daily history first, the ledger for the rest.

The trend and the stock KPIs are the 90-day team metrics of 13 days (12 week ends and the week
before): the snapshots job stores them every night, so the recap reads those rows and computes
only the days the history lacks (today, a day the scheduler missed), in one sweep. The week's
flows (cash, calls, targets, cost) need no balances: they are `metrics_as_of` without its pass
over every invoice.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from bot.db.models import ARSnapshot, Customer, Invoice, TeamMember
from bot.domain.aging import BUCKETS, Bucket
from bot.domain.ar_history import Scope
from bot.domain.metrics import ROLL_BUCKETS, LedgerFacts, Metrics, MetricsReport, period_first
from bot.domain.vocabulary import InvoiceStatus
from bot.services.metrics import (
    DEFAULT_PERIOD_DAYS,
    TEAM,
    ActivityTotals,
    MetricsConfig,
    active_collectors,
    assemble,
    cash_received,
    daily_activity,
    holidays_for,
)
from bot.services.snapshots import BUCKET_COLUMNS, metrics_series


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def metrics_from_snapshot(row: ARSnapshot) -> Metrics:
    """One stored day's metrics, as `metrics_as_of` computed them that night."""
    stored = row.metrics
    buckets = {bucket: Decimal(getattr(row, BUCKET_COLUMNS[bucket])) for bucket in BUCKETS}

    def number(key: str) -> Decimal | None:
        return _decimal(stored.get(key))

    def money(key: str) -> Decimal:
        value = number(key)
        if value is None:
            raise ValueError(f"snapshot {row.snapshot_date} {row.scope}: no {key}")
        return value

    rolls = stored.get("roll_rates") or {}
    return Metrics(
        period_days=row.period_days,
        buckets=buckets,
        total_ar=Decimal(row.total_ar),
        current_ar=buckets[Bucket.CURRENT],
        credit_sales=money("credit_sales"),
        dso=number("dso"),
        dso_countback=number("dso_countback"),
        best_possible_dso=number("best_possible_dso"),
        add=number("add"),
        cei=number("cei"),
        percent_current=number("percent_current"),
        past_due_collected_pct=number("past_due_collected_pct"),
        roll_rates={b: _decimal(rolls.get(b.value)) for b in ROLL_BUCKETS},
        promise_kept_rate=number("promise_kept_rate"),
        right_party_contact_rate=number("right_party_contact_rate"),
        calls_made=int(stored["calls_made"]),
        calls_target=int(stored["calls_target"]),
        cash_collected=money("cash_collected"),
        cost_of_collecting=number("cost_of_collecting"),
        cost_per_call=number("cost_per_call"),
        cost_per_dollar_collected=number("cost_per_dollar_collected"),
    )


def team_stocks(session: Session, days: Iterable[date], config: MetricsConfig,
                period_days: int = DEFAULT_PERIOD_DAYS) -> dict[date, Metrics]:
    """The team's metrics on each day: the stored history's row where there is one, the rest
    computed from the ledger in one `metrics_series` pass.

    Read from the history: the AR, its buckets and the ledger ratios (DSO, CEI, percent current),
    which depend on the ledger only. Its calls and targets are those of the roster that night.
    """
    wanted = sorted(set(days))
    if not wanted:
        return {}
    rows = session.scalars(select(ARSnapshot).where(
        ARSnapshot.scope == TEAM, ARSnapshot.period_days == period_days,
        ARSnapshot.snapshot_date.in_(wanted)))
    out = {row.snapshot_date: metrics_from_snapshot(row) for row in rows}
    missing = [day for day in wanted if day not in out]
    if missing:
        series = metrics_series(session, missing[0], missing[-1], config, period_days)
        out.update({day: series[day].team for day in missing})
    return out


def flows_as_of(session: Session, as_of: date, config: MetricsConfig,
                period_days: int = 7) -> MetricsReport:
    """`metrics_as_of` for the flows only: cash collected, calls, targets and their cost, for
    the team and the same collectors' lines. The AR and every ratio on it are left empty (zero
    or None): read them from `metrics_as_of` or the history."""
    first = period_first(as_of, period_days)
    cash: dict[Scope, Decimal] = defaultdict(Decimal)
    for (scope, _), amount in cash_received(session, first, as_of).items():
        cash[scope] += amount
    activity = ActivityTotals(daily_activity(session, first, as_of, config.zone),
                              active_collectors(session), first, as_of,
                              holidays_for(config, first, as_of)).facts(first, as_of)
    members: dict[int | None, TeamMember] = {m.id: m for m in session.scalars(select(TeamMember))}
    # `metrics_as_of` gives a line to every member (and the unassigned accounts) owning an
    # invoice on the day: look only for those no call or cash already names.
    others = sorted(k for k in members if k is not None and k not in activity and k not in cash)
    unnamed: ColumnElement[bool] = Customer.collector_id.in_(others)
    if None not in cash:
        unnamed = or_(unnamed, Customer.collector_id.is_(None))
    owners = set(session.scalars(
        select(Customer.collector_id).distinct().where(
            unnamed,
            exists().where(Invoice.customer_id == Customer.id,
                           Invoice.status != InvoiceStatus.VOID, Invoice.issue_date <= as_of,
                           Invoice.currency == config.currency))))
    ledger = {scope: LedgerFacts(cash_collected=cash.get(scope, Decimal(0)))
              for scope in cash.keys() | owners}
    return assemble(session, as_of, period_days, config, ledger=ledger, activity=activity,
                    members=members)
