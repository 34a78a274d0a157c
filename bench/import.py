"""Benchmark: `import_file` of N invoice rows against the driver's fastest bulk insert.

    .venv/bin/python bench/import.py [--rows 1000000] [--customers N] [--engine sqlite|postgresql]

Generates a CSV of N invoices naming N/10 customers (created by the import itself), then, per
engine, in a fresh child process each (so peak RSS is that run's own): the import through
`bot.importer.import_file`, and a floor: the same rows, parsed before the clock starts,
inserted into the same invoices table by sqlite3 `executemany` / psycopg `COPY`, customers
pre-inserted. Prints rows/s, peak RSS and the ratio import/floor. Targets: ratio <= 3, peak
RSS <= 250 MB. PostgreSQL uses a fresh schema in BENCH_DATABASE_URL (default
postgresql+psycopg://postgres@127.0.0.1:5432/test), dropped after; skipped if unreachable.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PG_URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TODAY = date(2026, 6, 30)
COLUMNS = ("number", "customer_ref", "customer_name", "issue_date", "due_date", "amount",
           "amount_paid", "currency", "disputed")


def generate(path: Path, rows: int, customers: int) -> None:
    """Invoices over the past year; a few disputed; amounts with cents, some with commas."""
    rng = random.Random(7)
    start = TODAY - timedelta(days=365)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for i in range(rows):
            customer = rng.randrange(customers)
            issued = start + timedelta(days=rng.randrange(360))
            cents = rng.randrange(5_000, 5_000_000)
            amount = f"{cents // 100:,}.{cents % 100:02d}" if i % 4 == 0 else f"{cents / 100:.2f}"
            writer.writerow((
                f"INV-{i:08d}", f"CUST-{customer:06d}", f"Customer {customer}",
                issued.isoformat(), (issued + timedelta(days=30)).isoformat(), amount,
                "0", "USD", "yes" if i % 97 == 0 else "no",
            ))


def _database_url(engine: str, workdir: Path, label: str) -> tuple[str, Any]:
    """A fresh, migrated database and a cleanup callable."""
    from bot.db import Database
    from bot.db.scratch import scratch_schema

    if engine == "sqlite":
        url = f"sqlite:///{workdir / f'{label}.sqlite3'}"
        database = Database(url)
        database.upgrade()
        database.dispose()
        return url, lambda: None
    return scratch_schema(PG_URL, prefix="bench")


def child_import(url: str, path: Path) -> dict[str, Any]:
    from bot.db import Database
    from bot.importer import import_file

    database = Database(url)
    started = time.perf_counter()
    report = import_file(database, "invoices", path, today=TODAY, default_tz="UTC", assign=True)
    elapsed = time.perf_counter() - started
    database.dispose()
    if not report.committed or report.counts.created == 0:
        raise SystemExit(f"import failed:\n{report.render()}")
    return {"seconds": elapsed, "rows": report.counts.created,
            "customers": report.customers_created}


def _parsed(path: Path) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The rows as the floor inserts them: typed values, customers as ids."""
    customers: dict[str, int] = {}
    rows: list[tuple[Any, ...]] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle)
        next(reader)
        for number, ref, _name, issued, due, amount, paid, currency, disputed in reader:
            customer_id = customers.setdefault(ref, len(customers) + 1)
            rows.append((number, customer_id, date.fromisoformat(issued),
                         date.fromisoformat(due), amount.replace(",", ""), paid, currency,
                         "open", disputed == "yes"))
    return list(customers), rows


def child_floor(url: str, path: Path) -> dict[str, Any]:
    from decimal import Decimal

    from sqlalchemy.engine import make_url

    refs, rows = _parsed(path)
    now = datetime.now(UTC)
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        import sqlite3

        # SQLAlchemy stores SQLite money as REAL and dates/times as ISO text: the same here.
        typed = [(n, c, i.isoformat(), d.isoformat(), float(a), float(p), cur, s, int(dis),
                  now.strftime("%Y-%m-%d %H:%M:%S.%f"), now.strftime("%Y-%m-%d %H:%M:%S.%f"))
                 for n, c, i, d, a, p, cur, s, dis in rows]
        del rows
        connection = sqlite3.connect(target.database or "", isolation_level=None)
        connection.execute("PRAGMA foreign_keys=ON")
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("BEGIN")
        connection.executemany(
            "INSERT INTO customers (id, external_ref, name, tier, status, created_at, updated_at)"
            " VALUES (?, ?, ?, 'standard', 'active', ?, ?)",
            [(i, ref, ref, now.isoformat(), now.isoformat()) for i, ref in enumerate(refs, 1)],
        )
        connection.execute("COMMIT")
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        connection.executemany(
            "INSERT INTO invoices (number, customer_id, issue_date, due_date, amount, amount_paid,"
            " currency, status, disputed, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", typed)
        connection.execute("COMMIT")
        elapsed = time.perf_counter() - started
        connection.close()
        return {"seconds": elapsed, "rows": len(typed)}
    import psycopg

    options = target.query.get("options")
    conninfo = target.set(drivername="postgresql", query={}).render_as_string(False)
    with psycopg.connect(conninfo, options=str(options)) as connection:
        with connection.cursor() as cursor, cursor.copy(
            "COPY customers (id, external_ref, name, tier, status, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for i, ref in enumerate(refs, 1):
                copy.write_row((i, ref, ref, "standard", "active", now, now))
        connection.commit()
        typed = [(n, c, i, d, Decimal(a), Decimal(p), cur, s, dis, now, now)
                 for n, c, i, d, a, p, cur, s, dis in rows]
        del rows
        started = time.perf_counter()
        with connection.cursor() as cursor, cursor.copy(
            "COPY invoices (number, customer_id, issue_date, due_date, amount, amount_paid,"
            " currency, status, disputed, created_at, updated_at) FROM STDIN"
        ) as copy:
            for row in typed:
                copy.write_row(row)
        connection.commit()
        elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "rows": len(typed)}


def _child(mode: str, url: str, path: Path) -> None:
    result = child_import(url, path) if mode == "import" else child_floor(url, path)
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def _run(mode: str, url: str, path: Path) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, __file__, "--child", mode, url, str(path)],
        check=True, capture_output=True, text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def _pg_reachable() -> str | None:
    from sqlalchemy import text

    from bot.db import Database

    try:
        database = Database(PG_URL)
        with database.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        database.dispose()
    except Exception as exc:  # noqa: BLE001 - any failure means "skip PostgreSQL"
        return str(exc).splitlines()[0]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int)
    parser.add_argument("--engine", choices=["sqlite", "postgresql"], action="append")
    parser.add_argument("--child", nargs=3, metavar=("MODE", "URL", "FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        mode, url, file = args.child
        _child(mode, url, Path(file))
        return 0
    engines = args.engine or ["sqlite", "postgresql"]
    customers = args.customers or max(args.rows // 10, 1)
    failed = False
    with tempfile.TemporaryDirectory(prefix="collectbot-bench-") as tmp:
        workdir = Path(tmp)
        path = workdir / "invoices.csv"
        started = time.perf_counter()
        generate(path, args.rows, customers)
        size = path.stat().st_size / 1e6
        print(f"generated {args.rows:,} invoices for {customers:,} customers "
              f"({size:.0f} MB) in {time.perf_counter() - started:.1f}s")
        for engine in engines:
            if engine == "postgresql":
                problem = _pg_reachable()
                if problem:
                    print(f"postgresql: skipped, {PG_URL} unreachable: {problem}")
                    continue
            results = {}
            for mode in ("import", "floor"):
                url, cleanup = _database_url(engine, workdir, mode)
                try:
                    results[mode] = _run(mode, url, path)
                finally:
                    cleanup()
            ours, floor = results["import"], results["floor"]
            ratio = ours["seconds"] / floor["seconds"]
            verdict = "ok" if ratio <= 3 and ours["maxrss_mb"] <= 250 else "OVER TARGET"
            failed = failed or verdict != "ok"
            print(
                f"{engine}: import {ours['rows']:,} rows in {ours['seconds']:.1f}s "
                f"({ours['rows'] / ours['seconds']:,.0f} rows/s, {ours['customers']:,} customers "
                f"created), peak RSS {ours['maxrss_mb']:.0f} MB; floor "
                f"{floor['seconds']:.1f}s ({floor['rows'] / floor['seconds']:,.0f} rows/s); "
                f"ratio {ratio:.2f} (target <= 3, RSS <= 250 MB): {verdict}"
            )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
