"""Benchmark: every collector's call list, beside one SQL aggregate over the same invoices.

100,000 customers, 1,000,000 invoices, 50 collectors, on SQLite and PostgreSQL: on the first
morning (nobody called yet), then four weeks into the routine (25,000 calls and 2,500
promises added), where the recent-call ranking and the history queries have work to do. The
floor is one query: past-due balance and oldest due date per customer over the open invoices. The
figure is the time `compute_lists` takes for all 50 lists (load, score, order, cut, reasons);
nothing is stored or sent. Each is the best of --repeat runs. Target: ratio <= 1.5.

    .venv/bin/python bench/call_lists.py [--customers N] [--invoices N] [--engine sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.db import Database  # noqa: E402
from bot.db.models import TeamMember  # noqa: E402
from bot.db.scratch import scratch_schema  # noqa: E402

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 11, 23)
NOW = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)
COLLECTORS = 50

FLOOR_SQL = (
    "SELECT customer_id, SUM(amount - amount_paid), MIN(due_date) FROM invoices"
    " WHERE status = 'open' AND due_date < :today GROUP BY customer_id"
)


def _rows(customers: int, invoices: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Customers round-robin over collectors; invoices over 18 months, most of the old paid."""
    rng = random.Random(11)
    now = datetime.now(UTC)
    customer_rows = [
        (i, f"C{i:07d}", f"Customer {i:07d}", "Pat Payables", "+1 555 0100",
         ["standard", "key", "small"][i % 3], "on_hold" if i % 101 == 0 else "active",
         1 + (i % COLLECTORS), now, now)
        for i in range(1, customers + 1)
    ]
    invoice_rows = []
    for n in range(invoices):
        issued = TODAY - timedelta(days=rng.randrange(540))
        due = issued + timedelta(days=30)
        cents = rng.randrange(5_000, 2_000_000)
        amount = Decimal(cents).scaleb(-2)
        age = (TODAY - due).days
        # The older an invoice, the likelier it was paid; a tail never is.
        paid = age > 0 and rng.random() < min(0.97, 0.45 + age / 200)
        invoice_rows.append((
            f"INV-{n:08d}", 1 + rng.randrange(customers), issued, due, amount,
            amount if paid else Decimal(0), "USD", "paid" if paid else "open",
            due + timedelta(days=rng.randrange(20)) if paid else None,
            n % 97 == 0, now, now,
        ))
    return customer_rows, invoice_rows


def _history(customers: int) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Four weeks of a working team: 25 calls a day per collector, and their promises.

    Calls land on random accounts at any hour of the last 28 days (a callback asked for now and
    then, a note now and then); 2,000 open promises due around today and 500 broken lately.
    """
    rng = random.Random(12)
    outcomes = (["no_answer"] * 50 + ["left_voicemail"] * 25 + ["reached"] * 18
                + ["callback_requested"] * 4 + ["note"] * 3)
    attempts = []
    for n in range(COLLECTORS * 25 * 20):
        customer = 1 + rng.randrange(customers)
        at = NOW - timedelta(days=rng.randrange(28), minutes=rng.randrange(24 * 60))
        outcome = rng.choice(outcomes)
        callback = (at + timedelta(days=rng.randrange(1, 4))
                    if outcome == "callback_requested" else None)
        attempts.append((n + 1, customer, 1 + (customer % COLLECTORS), at, outcome, "button",
                         callback, at))
    promises = []
    for n in range(2_500):
        customer = 1 + rng.randrange(customers)
        broken = n >= 2_000
        promised = TODAY + timedelta(days=rng.randrange(-14, 8) if broken else rng.randrange(-3, 8))
        promises.append((customer, 1 + (customer % COLLECTORS), Decimal(rng.randrange(100, 5000)),
                         promised, "broken" if broken else "open", Decimal(0),
                         promised + timedelta(days=1) if broken else None, NOW))
    return attempts, promises


def _load(url: str, customers: int, invoices: int, *, history: bool) -> None:
    """Bulk-load the ledger, or then its history, with the driver's fastest path (not what is
    measured)."""
    members = [
        (i, f"UBENCH{i:03d}", f"Collector {i}", "collector", "America/New_York", 25, "1,2,3,4,5",
         True, datetime.now(UTC), datetime.now(UTC))
        for i in range(1, COLLECTORS + 1)
    ]
    target = make_url(url)
    member_sql = ("team_members (id, slack_user_id, name, role, timezone, daily_call_target,"
                  " working_days, active, created_at, updated_at)")
    customer_sql = ("customers (id, external_ref, name, contact_name, phone, tier, status,"
                    " collector_id, created_at, updated_at)")
    invoice_sql = ("invoices (number, customer_id, issue_date, due_date, amount, amount_paid,"
                   " currency, status, settled_date, disputed, created_at, updated_at)")
    attempt_sql = ("contact_attempts (id, customer_id, collector_id, at, outcome, source,"
                   " callback_at, created_at)")
    promise_sql = ("promises_to_pay (customer_id, collector_id, amount, promised_date, status,"
                   " amount_received, resolved_on, created_at)")
    if history:
        attempt_rows, promise_rows = _history(customers)
        tables = ((attempt_sql, attempt_rows), (promise_sql, promise_rows))
    else:
        customer_rows, invoice_rows = _rows(customers, invoices)
        tables = ((member_sql, members), (customer_sql, customer_rows),
                  (invoice_sql, invoice_rows))
    if target.get_backend_name() == "sqlite":
        import sqlite3

        def iso(value: Any) -> Any:
            if isinstance(value, datetime):
                return value.strftime("%Y-%m-%d %H:%M:%S.%f")
            if isinstance(value, date):
                return value.isoformat()
            if isinstance(value, Decimal):
                return float(value)  # how SQLAlchemy stores Numeric on SQLite
            return value

        connection = sqlite3.connect(target.database or "", isolation_level=None)
        connection.execute("BEGIN")
        for table, rows in tables:
            marks = ", ".join("?" * len(rows[0]))
            connection.executemany(f"INSERT INTO {table} VALUES ({marks})",
                                   ([iso(v) for v in row] for row in rows))
        connection.execute("COMMIT")
        connection.execute("ANALYZE")
        connection.close()
        return
    import psycopg

    options = target.query.get("options")
    conninfo = target.set(drivername="postgresql", query={}).render_as_string(False)
    with psycopg.connect(conninfo, options=str(options)) as connection:
        for table, rows in tables:
            with connection.cursor() as cursor, cursor.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        connection.commit()
        # Only the tables loaded: a bare ANALYZE visits every schema of the database and can
        # deadlock with another process dropping its own.
        connection.execute(f"ANALYZE {', '.join(table.split(' ', 1)[0] for table, _ in tables)}")
        connection.commit()


def _best(repeat: int, run: Callable[[], int]) -> tuple[float, int]:
    times, size = [], 0
    for _ in range(repeat):
        started = time.perf_counter()
        size = run()
        times.append(time.perf_counter() - started)
    return min(times), size


def bench(url: str, repeat: int) -> dict[str, float]:
    from bot.services.call_lists import Planned, compute_lists

    database = Database(url)
    tz = ZoneInfo("America/New_York")

    def floor() -> int:
        with database.engine.connect() as connection:
            return len(connection.execute(text(FLOOR_SQL), {"today": TODAY}).all())

    def lists() -> int:
        with database.uow() as uow:
            members = uow.session.query(TeamMember).order_by(TeamMember.id).all()
            planned = [Planned(m, tz, TODAY) for m in members]
            _, computed = compute_lists(uow.session, planned, now=NOW)
        return sum(len(c.result.items) for c in computed)

    # Collectors whose candidates could not prove their list and were loaded in full.
    full_loads: list[logging.LogRecord] = []
    watcher = logging.getLogger("bot.services.call_lists")
    counter = logging.Handler()
    counter.emit = full_loads.append  # type: ignore[method-assign]
    watcher.addHandler(counter)
    watcher.setLevel(logging.INFO)
    try:
        floor_seconds, customers = _best(repeat, floor)
        list_seconds, calls = _best(repeat, lists)
    finally:
        watcher.removeHandler(counter)
        database.dispose()
    fallbacks = sum(len(str(r.args[0]).split(", ")) for r in full_loads if r.args) / repeat
    return {"floor": floor_seconds, "lists": list_seconds, "customers_past_due": customers,
            "calls": calls, "full_loads": fallbacks}


def _fresh(engine: str, workdir: Path) -> tuple[str, Callable[[], None]]:
    if engine == "sqlite":
        url = f"sqlite:///{workdir / 'bench.sqlite3'}"
        Database(url).upgrade()
        return url, lambda: None
    return scratch_schema(PG_URL, prefix="bench")


def scratch_databases(choice: str) -> Iterator[tuple[str, str, Path]]:
    """(engine, url, a scratch directory) for each engine asked for ("both": SQLite then
    PostgreSQL), on a fresh migrated database dropped afterwards; an engine without a server is
    said skipped and left out."""
    for engine in ["sqlite", "postgresql"] if choice == "both" else [choice]:
        with tempfile.TemporaryDirectory() as workdir:
            try:
                url, drop = _fresh(engine, Path(workdir))
            except Exception as exc:  # noqa: BLE001 - no server: say so and go on
                print(f"{engine}: skipped: {str(exc).splitlines()[0]}")
                continue
            try:
                yield engine, url, Path(workdir)
            finally:
                drop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--invoices", type=int, default=1_000_000)
    parser.add_argument("--engine", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"call lists for {COLLECTORS} collectors: {args.customers:,} customers,"
          f" {args.invoices:,} invoices; best of {args.repeat}")
    print(f"{'engine, ledger':<24} {'floor (1 SQL aggregate)':>24} {'all 50 lists':>13}"
          f" {'ratio':>6} {'calls':>6}  target ratio <= 1.5")
    for engine, url, _workdir in scratch_databases(args.engine):
        # The first morning (nobody called yet), then four weeks into the routine.
        for history, label in ((False, "first morning"), (True, "4 weeks in")):
            _load(url, args.customers, args.invoices, history=history)
            result = bench(url, args.repeat)
            ratio = result["lists"] / result["floor"]
            print(f"{engine + ', ' + label:<24} {result['floor']:>22.3f} s"
                  f" {result['lists']:>11.3f} s {ratio:>6.2f} {int(result['calls']):>6}"
                  f"  ({int(result['customers_past_due']):,} customers past due;"
                  f" {result['full_loads']:g} of {COLLECTORS} collectors loaded in full)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
