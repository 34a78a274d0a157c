"""Benchmark: the whole weekly recap, beside the metrics floor of bench/metrics.py.

The ledger of bench/metrics.py (100,000 customers, 1,000,000 invoices, payments allocated to
their invoices, 50 collectors) plus 12 weeks of calls (25 a day per collector on working days)
and two policy versions (the default half a year ago; a 10% holdout on its focus strategy 12
weeks ago), on SQLite and PostgreSQL. Figures, each the best of --repeat runs in one process:

- floor: the metrics floor (three bare GROUP BYs over invoices and payments, no as-of rule);
- metrics: `metrics_as_of` (for scale: what one `collectbot report` costs);
- recap: `build_recap` — the 12-week DSO/aging trend, this and last week's KPIs, per collector,
  escalations, effort against yield, contact gaps and the strategies' assessment — with the
  daily history stored through the as-of date, as the nightly snapshots job leaves it on a
  Monday morning (storing it is not measured);
- cold recap: the same with no stored history (after a fresh install, before the first night),
  for scale: the 12 week ends are then computed from the ledger.

Target: recap <= 2x the floor.

    .venv/bin/python bench/recap.py [--invoices N] [--engine sqlite|postgresql|both]

The machine is shared: read the ratios, not the seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402

from bench.call_lists import COLLECTORS, TODAY, scratch_databases  # noqa: E402
from bench.metrics import PERIOD, _best, _ledger, _load, floor_sql  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.domain.policy import default_policy_text  # noqa: E402
from bot.services.metrics import MetricsConfig, metrics_as_of  # noqa: E402
from bot.services.policy import save_policy  # noqa: E402
from bot.services.recap import build_recap  # noqa: E402
from bot.services.snapshots import store_snapshots  # noqa: E402

AS_OF = TODAY - timedelta(days=1)
WEEKS = 12


def _calls(customers: int) -> tuple[str, list[tuple[Any, ...]]]:
    rng = random.Random(31)
    outcomes = ["no_answer"] * 50 + ["left_voicemail"] * 25 + ["reached"] * 25
    rows = []
    for offset in range(WEEKS * 7, 0, -1):
        day = AS_OF - timedelta(days=offset - 1)
        if day.weekday() >= 5:
            continue
        for _ in range(COLLECTORS * 25):
            customer = 1 + rng.randrange(customers)
            at = datetime.combine(day, time(13), UTC) + timedelta(minutes=rng.randrange(480))
            rows.append((len(rows) + 1, customer, 1 + (customer % COLLECTORS), at,
                         rng.choice(outcomes), "button", at))
    return "(id, customer_id, collector_id, at, outcome, source, created_at)", rows


def _policies(database: Database) -> None:
    text_ = default_policy_text()
    focused = text_.replace("  - name: 61-90 days\n", "  - name: 61-90 days\n    holdout: 10%\n")
    start = datetime.combine(TODAY, time(9), UTC)
    with database.uow() as uow:
        save_policy(uow, text_, "yaml", "bench", now=start - timedelta(days=180))
        uow.commit()
    with database.uow() as uow:
        save_policy(uow, focused, "yaml", "bench", now=start - timedelta(weeks=WEEKS))
        uow.commit()


def bench(url: str, repeat: int) -> dict[str, float]:
    database = Database(url)
    config = MetricsConfig(zone=ZoneInfo("America/New_York"), country="US",
                           collector_day_cost=Decimal(400))
    params = {"d": AS_OF, **{f"d{n}": AS_OF - timedelta(days=n) for n in (30, 60, 90, 120)},
              "sales_from": AS_OF.replace(year=AS_OF.year - 2, day=1),
              "period_from": AS_OF - timedelta(days=PERIOD - 1)}

    statements = floor_sql(database.dialect)

    def floor() -> int:
        with database.engine.connect() as connection:
            return sum(len(connection.execute(text(sql), params).all()) for sql in statements)

    def metrics() -> Any:
        with database.uow() as uow:
            return metrics_as_of(uow.session, AS_OF, config, PERIOD)

    def recap() -> Any:
        with database.uow() as uow:
            return build_recap(uow.session, AS_OF, config)

    def history() -> None:
        with database.uow() as uow:
            store_snapshots(uow.session, AS_OF - timedelta(weeks=WEEKS), AS_OF, config)
            uow.commit()

    try:
        _policies(database)
        floor_s, _ = _best(repeat, floor)
        metrics_s, _ = _best(repeat, metrics)
        cold_s, cold = _best(1, recap)
        history()
        recap_s, built = _best(repeat, recap)
    finally:
        database.dispose()
    assert len(built.trend) == WEEKS and built.strategies
    assert built == cold, "the recap from the stored history differs from the ledger's"
    return {"floor": floor_s, "metrics": metrics_s, "recap": recap_s, "cold": cold_s}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    tables = _ledger(args.customers, args.invoices)
    tables["contact_attempts"] = _calls(args.customers)
    print(f"weekly recap as of {AS_OF}: {args.customers:,} customers, {args.invoices:,} invoices,"
          f" {len(tables['contact_attempts'][1]):,} calls over {WEEKS} weeks;"
          f" best of {args.repeat} (shared machine: compare the ratios)")
    for engine, url, _workdir in scratch_databases(args.engine):
        _load(url, tables)
        r = bench(url, args.repeat)
        print(f"\n{engine}")
        print(f"  floor (3 bare aggregates)   {r['floor']:8.3f} s")
        print(f"  metrics_as_of (all)         {r['metrics']:8.3f} s   "
              f"{r['metrics'] / r['floor']:5.2f}x the floor")
        print(f"  build_recap (whole recap)   {r['recap']:8.3f} s   "
              f"{r['recap'] / r['floor']:5.2f}x the floor (target <= 2)")
        print(f"  build_recap, no history     {r['cold']:8.3f} s   "
              f"{r['cold'] / r['floor']:5.2f}x the floor")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
