"""Benchmark: every metric as of a date, beside the bare SQL aggregates and beside pandas.

100,000 customers, 1,000,000 invoices (18 months, most of the old paid, one payment row per
paid invoice and a partial payment on one open invoice in ten, each allocated to its invoice),
50 collectors, on SQLite and
PostgreSQL. Figures, each the best of --repeat runs in the same process:

- floor: the minimal SQL aggregates the metrics need: open balance (amount less amount paid)
  per collector and aging bucket, credit sales per collector and day over the countback's 24
  months, payments per collector and day over the period (three bare GROUP BYs, no as-of rule);
- metrics: `metrics_as_of` (team and every collector, every metric, as-of rule at three dates);
- pandas: what an analyst does with an export: read the CSV files, compute the same figures,
  the team's and each collector's (checked equal to ours); "compute only" leaves out reading
  the files, and the export itself (from the database to the files) is printed apart;
- backfill: `metrics_series` for the 365 days before the date (what an import or the first
  snapshots run computes), beside the first floor aggregate (open balance by collector, bucket).

Targets: metrics <= 1.5x the floor and faster than pandas; backfill <= 5x one aggregate.

    .venv/bin/python bench/metrics.py [--invoices N] [--engine sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import csv
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.call_lists import COLLECTORS, TODAY, _rows, scratch_databases  # noqa: E402
from bot.db import Database  # noqa: E402

PERIOD = 90
AS_OF = TODAY

FLOOR_SQL = (
    "SELECT c.collector_id, CASE WHEN i.due_date >= :d THEN 0 WHEN i.due_date >= :d30 THEN 1"
    " WHEN i.due_date >= :d60 THEN 2 WHEN i.due_date >= :d90 THEN 3 WHEN i.due_date >= :d120"
    " THEN 4 ELSE 5 END AS bucket, SUM(i.amount - i.amount_paid) FROM invoices i"
    " JOIN customers c ON c.id = i.customer_id WHERE i.status = 'open'"
    " GROUP BY c.collector_id, bucket",
    "SELECT c.collector_id, i.issue_date, SUM(i.amount) FROM invoices i JOIN customers c"
    " ON c.id = {customer_id} WHERE i.status != 'void' AND i.issue_date >= :sales_from"
    " AND i.issue_date <= :d GROUP BY c.collector_id, i.issue_date",
    "SELECT c.collector_id, p.paid_on, SUM(p.amount) FROM payments p JOIN customers c"
    " ON c.id = p.customer_id WHERE p.paid_on >= :period_from AND p.paid_on <= :d"
    " GROUP BY c.collector_id, p.paid_on",
)

# The sales aggregate reads nearly every invoice: on SQLite its best plan scans invoices and looks
# customers up by primary key (`+ 0` keeps SQLite from walking the customers' collector index
# into invoices row by row, as the metrics' own query does); PostgreSQL plans it by statistics.
CUSTOMER_ID = {"sqlite": "i.customer_id + 0", "postgresql": "i.customer_id"}


def floor_sql(dialect: str) -> list[str]:
    """The floor's statements as this engine runs them best (bench/recap.py's floor too)."""
    return [sql.format(customer_id=CUSTOMER_ID[dialect]) for sql in FLOOR_SQL]


def _ledger(customers: int, invoices: int) -> dict[str, tuple[str, list[tuple[Any, ...]]]]:
    customer_rows, invoice_rows = _rows(customers, invoices)
    rng = random.Random(21)
    now = datetime.now(UTC)
    payments: list[tuple[Any, ...]] = []
    allocations: list[tuple[Any, ...]] = []

    def pay(n: int, customer: int, amount: Decimal, day: date) -> None:
        payments.append((f"P{n}", customer, n + 1, amount, day, now))
        allocations.append((len(payments), n + 1, amount, day, now))

    for n, row in enumerate(invoice_rows):
        customer, issued, amount, status, settled = row[1], row[2], row[4], row[7], row[8]
        if status == "paid":
            pay(n, customer, amount, settled)
        elif n % 10 == 0 and issued < TODAY - timedelta(days=10):
            part = (amount / 4).quantize(Decimal("0.01"))
            pay(n, customer, part, issued + timedelta(days=rng.randrange(1, (TODAY - issued).days)))
            invoice_rows[n] = (*row[:5], part, *row[6:])
    members = [
        (i, f"UBENCH{i:03d}", f"Collector {i}", "collector", "America/New_York", 25, "1,2,3,4,5",
         True, now, now)
        for i in range(1, COLLECTORS + 1)
    ]
    return {
        "team_members": ("(id, slack_user_id, name, role, timezone, daily_call_target,"
                         " working_days, active, created_at, updated_at)", members),
        "customers": ("(id, external_ref, name, contact_name, phone, tier, status,"
                      " collector_id, created_at, updated_at)", customer_rows),
        "invoices": ("(number, customer_id, issue_date, due_date, amount, amount_paid,"
                     " currency, status, settled_date, disputed, created_at, updated_at)",
                     invoice_rows),
        "payments": ("(external_ref, customer_id, invoice_id, amount, paid_on, created_at)",
                     payments),
        "payment_allocations": ("(payment_id, invoice_id, amount, applied_on, created_at)",
                                allocations),
    }


def _load(url: str, tables: dict[str, tuple[str, list[tuple[Any, ...]]]]) -> None:
    """The driver's bulk path (not measured)."""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        import sqlite3

        def plain(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return float(value)  # how SQLAlchemy stores Numeric on SQLite
            return value

        connection = sqlite3.connect(target.database or "", isolation_level=None)
        connection.execute("BEGIN")
        for table, (columns, rows) in tables.items():
            marks = ", ".join("?" * len(rows[0]))
            connection.executemany(f"INSERT INTO {table} {columns} VALUES ({marks})",
                                   ([plain(v) for v in row] for row in rows))
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.close()
        return
    import psycopg

    options = target.query.get("options")
    conninfo = target.set(drivername="postgresql", query={}).render_as_string(False)
    with psycopg.connect(conninfo, options=str(options)) as connection:
        for table, (columns, rows) in tables.items():
            with connection.cursor() as cursor, \
                    cursor.copy(f"COPY {table} {columns} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.commit()
        # Only this schema's tables: a bare ANALYZE would take every schema of the database.
        connection.execute(f"ANALYZE {', '.join(tables)}")
        connection.commit()


def _export(database: Database, workdir: Path) -> dict[str, Path]:
    """CSV files as an analyst would export them from the ledger (timed once, printed apart)."""
    queries = {
        "customers": "SELECT id, collector_id FROM customers",
        "invoices": "SELECT id, customer_id, issue_date, due_date, amount, amount_paid, status,"
                    " settled_date FROM invoices",
        "payments": "SELECT customer_id, amount, paid_on FROM payments",
        "allocations": "SELECT invoice_id, amount, applied_on FROM payment_allocations",
    }
    paths = {}
    with database.engine.connect() as connection:
        for name, sql in queries.items():
            result = connection.execute(text(sql))
            path = workdir / f"{name}.csv"
            with path.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(result.keys())
                writer.writerows(result)
            paths[name] = path
    return paths


def _countback(remaining: float, months: Any, end: Any) -> float:
    """Countback DSO over the calendar months ending on `end` (sales per pandas Period)."""
    days, period = 0.0, end.to_period("M")
    for n in range(24):
        month_sales = float(months.get(period - n, 0.0))
        month_days = end.day if n == 0 else (period - n).days_in_month
        if remaining <= 0:
            break
        if month_sales <= 0 or remaining >= month_sales:
            days += month_days
            remaining -= max(month_sales, 0)
        else:
            days += remaining / month_sales * month_days
            remaining = 0
    return days


def pandas_metrics(paths: dict[str, Path], *, frames: dict[str, Any] | None = None
                   ) -> dict[Any, dict[str, float | None]]:
    """The ledger metrics with pandas, from the CSV export (or frames already read): the team's
    ("team") and each collector's (by collector id), as `metrics_as_of` gives them."""
    import numpy as np
    import pandas as pd

    if frames is None:
        frames = read_export(paths)
    inv, pay, cust = frames["invoices"], frames["payments"], frames["customers"]
    alloc = frames["allocations"]
    inv = inv[inv.status != "void"].merge(cust, left_on="customer_id", right_on="id",
                                          suffixes=("", "_c"))
    pay = pay.merge(cust, left_on="customer_id", right_on="id")
    end = pd.Timestamp(AS_OF)
    start = end - pd.Timedelta(days=PERIOD)
    month = end - pd.Timedelta(days=30)

    def balance(day: Any) -> Any:
        applied = alloc[alloc.applied_on <= day].groupby("invoice_id").amount.sum()
        raw = inv.amount - inv.id.map(applied).fillna(0)
        raw = raw.clip(lower=0).where(raw <= inv.amount, inv.amount)
        return raw.where(inv.issue_date <= day, 0)

    def bucket(day: Any) -> Any:
        dpd = (day - inv.due_date).dt.days
        return np.select([dpd <= 0, dpd <= 30, dpd <= 60, dpd <= 90, dpd <= 120],
                         [0, 1, 2, 3, 4], 5)

    def per_collector(values: Any, where: Any = None) -> Any:
        return (values if where is None else values.where(where, 0)) \
            .groupby(inv.collector_id).sum()

    b_end, b_start, b_month = balance(end), balance(start), balance(month)
    k_end, k_start, k_month = bucket(end), bucket(start), bucket(month)
    first = end - pd.Timedelta(days=PERIOD - 1)
    sums = pd.DataFrame({
        "ending": per_collector(b_end),
        "current": per_collector(b_end, k_end == 0),
        "beginning": per_collector(b_start),
        "past_due_start": per_collector(b_start, k_start > 0),
        "still_open": per_collector(b_end, inv.due_date < start),
        "sales": per_collector(inv.amount, (inv.issue_date >= first)
                               & (inv.issue_date <= end)),
        "cash": pay.amount.where((pay.paid_on >= first) & (pay.paid_on <= end), 0)
        .groupby(pay.collector_id).sum(),
        **{f"roll_from_{k}": per_collector(b_month, k_month == k) for k in (1, 2, 3, 4)},
        **{f"roll_to_{k}": per_collector(b_end, k_month == k) for k in (1, 2, 3, 4)},
    }).fillna(0)
    sold = inv[inv.issue_date <= end]
    monthly = sold.amount.groupby([sold.collector_id, sold.issue_date.dt.to_period("M")]).sum()
    monthly = monthly.unstack(fill_value=0.0)
    sums.loc["team"] = sums.sum()
    monthly.loc["team"] = monthly.sum()

    def share(a: float, b: float, scale: float = 100.0) -> float | None:
        return round(a / b * scale, 2) if b else None

    out: dict[Any, dict[str, float | None]] = {}
    for scope, row in sums.iterrows():
        months = monthly.loc[scope] if scope in monthly.index else pd.Series(dtype=float)
        out[scope] = {
            "dso": share(row.ending, row.sales, PERIOD),
            "best_possible_dso": share(row.current, row.sales, PERIOD),
            "dso_countback": round(_countback(row.ending, months, end), 2)
            if months.any() else None,
            "cei": share(row.beginning + row.sales - row.ending,
                         row.beginning + row.sales - row.current),
            "percent_current": share(row.current, row.ending),
            "past_due_collected_pct": share(row.past_due_start - row.still_open,
                                            row.past_due_start),
            **{f"roll_{k}": share(row[f"roll_to_{k}"], row[f"roll_from_{k}"])
               for k in (1, 2, 3, 4)},
            "cash_collected": round(row.cash, 2), "credit_sales": round(row.sales, 2),
        }
    return out


def read_export(paths: dict[str, Path]) -> dict[str, Any]:
    import pandas as pd

    return {
        "invoices": pd.read_csv(paths["invoices"], parse_dates=["issue_date", "due_date",
                                                                 "settled_date"]),
        "payments": pd.read_csv(paths["payments"], parse_dates=["paid_on"]),
        "allocations": pd.read_csv(paths["allocations"], parse_dates=["applied_on"]),
        "customers": pd.read_csv(paths["customers"]),
    }


def _best(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    times, value = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        value = run()
        times.append(time.perf_counter() - started)
    return min(times), value


def bench(url: str, workdir: Path, repeat: int) -> dict[str, float]:
    from bot.services.metrics import MetricsConfig, metrics_as_of
    from bot.services.snapshots import metrics_series

    database = Database(url)
    config = MetricsConfig(zone=ZoneInfo("America/New_York"), country="US",
                           collector_day_cost=Decimal(400))
    params = {"d": AS_OF, **{f"d{n}": AS_OF - timedelta(days=n) for n in (30, 60, 90, 120)},
              "sales_from": date(AS_OF.year - 2, AS_OF.month, 1),
              "period_from": AS_OF - timedelta(days=PERIOD - 1)}

    floor_statements = floor_sql(database.dialect)

    def floor() -> int:
        with database.engine.connect() as connection:
            return sum(len(connection.execute(text(sql), params).all()) for sql in floor_statements)

    def aggregate() -> int:
        with database.engine.connect() as connection:
            return len(connection.execute(text(floor_statements[0]), params).all())

    def ours() -> Any:
        with database.uow() as uow:
            return metrics_as_of(uow.session, AS_OF, config, PERIOD)

    def backfill() -> int:
        with database.uow() as uow:
            first = AS_OF - timedelta(days=365)
            return len(metrics_series(uow.session, first, AS_OF - timedelta(days=1), config,
                                      PERIOD))

    try:
        started = time.perf_counter()
        paths = _export(database, workdir)
        export_s = time.perf_counter() - started
        floor_s, _ = _best(repeat, floor)
        aggregate_s, _ = _best(repeat, aggregate)
        ours_s, report = _best(repeat, ours)
        pandas_s, theirs = _best(repeat, lambda: pandas_metrics(paths))
        frames = read_export(paths)
        compute_s, _ = _best(repeat, lambda: pandas_metrics(paths, frames=frames))
        backfill_s, days = _best(max(1, repeat // 2), backfill)
    finally:
        database.dispose()
    scopes = {"team": report.team, **{line.collector_id: line.metrics
                                      for line in report.by_collector}}
    if scopes.keys() != theirs.keys():
        raise SystemExit(f"pandas and collectbot see other scopes: {sorted(map(str, theirs))}")
    for scope, metrics in scopes.items():
        rolls = list(metrics.roll_rates.values())
        mine = {"dso": metrics.dso, "best_possible_dso": metrics.best_possible_dso,
                "dso_countback": metrics.dso_countback, "cei": metrics.cei,
                "percent_current": metrics.percent_current,
                "past_due_collected_pct": metrics.past_due_collected_pct,
                **{f"roll_{k}": rolls[k - 1] for k in (1, 2, 3, 4)},
                "cash_collected": metrics.cash_collected, "credit_sales": metrics.credit_sales}
        for key, value in mine.items():
            other = theirs[scope][key]
            if (value is None) != (other is None) or (
                    value is not None and abs(float(value) - float(other)) > 0.011):
                raise SystemExit(f"pandas and collectbot disagree on {scope} {key}:"
                                 f" {other} vs {value}")
    return {"floor": floor_s, "aggregate": aggregate_s, "metrics": ours_s, "pandas": pandas_s,
            "pandas_compute": compute_s, "export": export_s, "backfill": backfill_s, "days": days}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    tables = _ledger(args.customers, args.invoices)
    print(f"metrics as of {AS_OF}, {PERIOD}-day period: {args.customers:,} customers,"
          f" {args.invoices:,} invoices, {len(tables['payments'][1]):,} payments,"
          f" {COLLECTORS} collectors; best of {args.repeat}")
    for engine, url, workdir in scratch_databases(args.engine):
        _load(url, tables)
        r = bench(url, workdir, args.repeat)
        print(f"\n{engine}")
        print(f"  floor (3 bare aggregates)   {r['floor']:8.3f} s")
        print(f"  metrics_as_of (all)         {r['metrics']:8.3f} s  "
              f" {r['metrics'] / r['floor']:5.2f}x the floor (target <= 1.5)")
        print(f"  pandas, read + compute      {r['pandas']:8.3f} s   metrics are"
              f" {r['pandas'] / r['metrics']:5.2f}x faster (target > 1)")
        print(f"  pandas, compute only        {r['pandas_compute']:8.3f} s   metrics are"
              f" {r['pandas_compute'] / r['metrics']:5.2f}x faster")
        print(f"  (the export, database to CSV {r['export']:8.3f} s, once, left out of pandas)")
        print(f"  one aggregate (AR x bucket) {r['aggregate']:8.3f} s")
        print(f"  backfill of {int(r['days'])} days        {r['backfill']:8.3f} s   "
              f"{r['backfill'] / r['aggregate']:5.2f}x one aggregate (target <= 5)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
