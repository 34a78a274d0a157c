"""The demo, step by step: build the ledger through the real import, then show its aging.

Each step is a function that writes to `out` under a numbered banner; later steps (call lists,
a collector's morning) take the DemoResult, whose database stays open for them.
"""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path
from typing import TextIO
from zoneinfo import ZoneInfo

from bot.db import Database
from bot.demo.clicks import step_collector_morning
from bot.demo.escalation import step_escalations
from bot.demo.ledger import DemoFiles, generate_demo_ledger
from bot.demo.morning import demo_slack, step_morning
from bot.demo.objective import step_objective
from bot.demo.recap import step_recap
from bot.demo.steps import DEMO_TOKEN, DemoError, DemoResult, write_banner
from bot.importer import ImportReport, import_file
from bot.sandbox.web_api import SlackSandbox
from bot.services.report import AgingReport, aging_report, render_report
from bot.settings import Settings, load_settings

log = logging.getLogger(__name__)

DATABASE_FILE = "demo.sqlite3"


def fresh_database(workdir: Path) -> tuple[Settings, Database]:
    """Settings pointing at a new, migrated SQLite file in `workdir` (an old one is deleted)."""
    path = (workdir / DATABASE_FILE).resolve()
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    settings = load_settings(DATABASE_URL=f"sqlite:///{path}")
    database = Database(settings.url)
    database.upgrade()
    return settings, database


def import_ledger(database: Database, files: DemoFiles, *, today: date, default_tz: ZoneInfo,
                  out: TextIO) -> list[ImportReport]:
    """Import the four files in order; any refused row is a DemoError (the demo's data is bad)."""
    reports: list[ImportReport] = []
    order = files.in_import_order()
    for position, (kind, path) in enumerate(order, start=1):
        # Assign once, after the payments: before then past-due balances are not final and the
        # customers would be split by count instead of by money.
        report = import_file(database, kind, path, today=today, default_tz=default_tz,
                             actor="demo", assign=position == len(order))
        if not report.committed:
            raise DemoError(f"importing {path.name} failed:\n{report.render()}")
        out.write(report.render() + "\n\n")
        reports.append(report)
    return reports


def step_ledger(workdir: Path, *, today: date, out: TextIO, seed: int, customers: int,
                invoices: int) -> DemoResult:
    """1. Ledger: generate the CSV files, build a fresh database, import them."""
    write_banner(out, "1. Ledger")
    files = generate_demo_ledger(workdir, today=today, seed=seed, customers=customers,
                                 invoices=invoices)
    rows = files.rows
    out.write(
        f"Wrote {rows['team']} team members, {rows['customers']:,} customers, "
        f"{rows['invoices']:,} invoices (18 months to {today.isoformat()}) and "
        f"{rows['payments']:,} payments to {workdir}/\n\n"
    )
    settings, database = fresh_database(workdir)
    result = DemoResult(today=today, settings=settings, database=database, files=files)
    try:
        result.imports = import_ledger(database, files, today=today,
                                       default_tz=settings.zone, out=out)
    except BaseException:
        database.dispose()
        raise
    log.debug("demo ledger imported into %s", settings.url.database)
    return result


def step_aging(result: DemoResult, out: TextIO) -> AgingReport:
    """2. Aging: the ledger by bucket and collector as of the demo's today."""
    write_banner(out, "2. Aging")
    with result.database.uow() as uow:
        report = aging_report(uow.session, result.today)
    out.write(render_report(report) + "\n")
    result.aging = report
    return report


def run_demo(workdir: Path, *, today: date, out: TextIO, seed: int = 7, customers: int = 300,
             invoices: int = 4000) -> DemoResult:
    """Every step of the demo in order, into a fresh SQLite file in `workdir`."""
    workdir.mkdir(parents=True, exist_ok=True)
    result = step_ledger(workdir, today=today, out=out, seed=seed, customers=customers,
                         invoices=invoices)
    try:
        step_aging(result, out)
        with SlackSandbox(DEMO_TOKEN) as sandbox:
            slack = demo_slack(result, sandbox)
            step_morning(result, slack, out)
            step_collector_morning(result, slack, out)
            step_objective(result, out)
            step_escalations(result, slack, out)
        step_recap(result, workdir, out)
    except BaseException:
        result.database.dispose()
        raise
    return result
