"""Benchmark: the escalation rules over the whole book, beside the SQL aggregates they need.

100,000 customers, 1,000,000 invoices, 50 collectors, four weeks of history (25,000 contact
attempts, 2,500 promises, 500 of them broken) and 1,000 open disputes, on SQLite and
PostgreSQL (the ledger of bench/call_lists.py). Figures, in the same process:

- floor: the minimal SQL aggregates the rules need, one GROUP BY each: past due outside
  disputes, oldest due date and disputed balance per customer over the open invoices; last
  call and last right-party contact per customer; last payment per customer; broken promises
  per customer in the window; oldest open dispute per customer;
- first run: `run_escalations` on a book that has none yet (every escalation it opens is
  written and audited), once;
- steady: the hourly run an hour later (nothing changed: every account read and judged again,
  nothing written), the best of --repeat; the target ratio (<= 1.5x the floor) is this one's.

Nothing is sent to Slack: delivery is one message per manager (a digest) and is measured by
the outbox's own tests. Not part of `make test`.

    .venv/bin/python bench/escalations.py [--customers N] [--invoices N] [--engine ...]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.call_lists import NOW, TODAY, _load, scratch_databases  # noqa: E402
from bot.db import Database  # noqa: E402
from bot.db.models import Dispute  # noqa: E402
from bot.domain.vocabulary import DisputeStatus  # noqa: E402

DISPUTES = 1_000
BROKEN_WINDOW = 60

FLOOR_SQL = (
    "SELECT customer_id,"
    " SUM(CASE WHEN NOT disputed AND due_date < :today THEN amount - amount_paid END),"
    " MIN(CASE WHEN NOT disputed AND due_date < :today THEN due_date END),"
    " SUM(CASE WHEN disputed AND due_date < :today THEN amount - amount_paid END)"
    " FROM invoices WHERE status = 'open' GROUP BY customer_id",
    "SELECT customer_id, MAX(CASE WHEN outcome <> 'note' THEN at END),"
    " MAX(CASE WHEN outcome IN ('reached', 'promise_to_pay', 'paid', 'dispute',"
    " 'callback_requested', 'refused') THEN at END) FROM contact_attempts GROUP BY customer_id",
    "SELECT customer_id, MAX(paid_on) FROM payments WHERE amount > 0 GROUP BY customer_id",
    "SELECT customer_id, COUNT(*), MAX(resolved_on) FROM promises_to_pay"
    " WHERE status = 'broken' AND resolved_on >= :since GROUP BY customer_id",
    "SELECT customer_id, MIN(opened_at) FROM disputes WHERE status = 'open' GROUP BY customer_id",
)


def _disputes(url: str, customers: int) -> None:
    """Open disputes on random accounts, opened over the last 90 days (not what is measured)."""
    rng = random.Random(13)
    rows = [{"customer_id": 1 + rng.randrange(customers), "reason": "pricing",
             "status": DisputeStatus.OPEN, "opened_at": NOW - timedelta(days=rng.randrange(90))}
            for _ in range(DISPUTES)]
    database = Database(url)
    with database.uow() as uow:
        uow.session.execute(insert(Dispute), rows)
        uow.commit()
    if make_url(url).get_backend_name() == "postgresql":
        with database.engine.begin() as connection:
            connection.execute(text("ANALYZE disputes"))
    database.dispose()


def _timed(run: Callable[[], Any]) -> tuple[float, Any]:
    started = time.perf_counter()
    result = run()
    return time.perf_counter() - started, result


def _best(repeat: int, run: Callable[[], Any]) -> tuple[float, Any]:
    runs = [_timed(run) for _ in range(repeat)]
    return min(runs, key=lambda r: r[0])


def bench(url: str, repeat: int) -> dict[str, Any]:
    from bot.services.escalations import run_escalations

    database = Database(url)
    since = TODAY - timedelta(days=BROKEN_WINDOW)

    def floor() -> int:
        with database.engine.connect() as connection:
            return sum(len(connection.execute(text(sql), {"today": TODAY, "since": since}).all())
                       for sql in FLOOR_SQL)

    def job(now: datetime) -> Callable[[], Any]:
        def run() -> Any:
            with database.uow() as uow:
                result = run_escalations(uow, now=now, team_zone="America/New_York")
                uow.commit()
            return result
        return run

    try:
        floor_seconds, rows = _best(repeat, floor)
        first_seconds, first = _timed(job(NOW))
        steady_seconds, steady = _best(repeat, job(NOW + timedelta(hours=1)))
    finally:
        database.dispose()
    changed = len(steady.opened) + len(steady.merged) + len(steady.closed)
    return {"floor": floor_seconds, "rows": rows, "first": first_seconds,
            "opened": len(first.opened), "steady": steady_seconds, "checked": steady.checked,
            "changed": changed}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"escalation job: {args.customers:,} customers, {args.invoices:,} invoices, 25,000"
          f" attempts, 2,500 promises, {DISPUTES:,} disputes; floor and steady best of"
          f" {args.repeat}")
    print(f"{'engine':<11} {'floor (5 aggregates)':>21} {'first run':>10} {'ratio':>6}"
          f" {'steady run':>11} {'ratio':>6}  target steady ratio <= 1.5")
    for engine, url, _workdir in scratch_databases(args.engine):
        for history in (False, True):
            _load(url, args.customers, args.invoices, history=history)
        _disputes(url, args.customers)
        r = bench(url, args.repeat)
        print(f"{engine:<11} {r['floor']:>19.3f} s {r['first']:>8.3f} s"
              f" {r['first'] / r['floor']:>6.2f} {r['steady']:>9.3f} s"
              f" {r['steady'] / r['floor']:>6.2f}  ({r['checked']:,} accounts judged;"
              f" first run opened {r['opened']:,}; steady changed {r['changed']})")
    print(f"(as of {NOW:%Y-%m-%d %H:%M} UTC; run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
