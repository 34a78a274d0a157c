"""One import: stream the file in batches through one transaction, then commit or roll back."""

from __future__ import annotations

import csv
import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, case, func, select

from bot.db import Database
from bot.db.models import utcnow
from bot.domain.vocabulary import InvoiceStatus
from bot.importer.assign import assign_unowned
from bot.importer.base import (
    TABLES,
    Cells,
    ImportContext,
    KindImporter,
    Pending,
    Rejection,
    RowInvalid,
)
from bot.importer.customers import CustomerImporter
from bot.importer.invoices import InvoiceImporter
from bot.importer.lock import take_import_lock
from bot.importer.payments import PaymentImporter
from bot.importer.progress import ProgressBar
from bot.importer.promise_updates import settle_promises
from bot.importer.report import ImportReport, RowError
from bot.importer.source import CsvSource, ImportFileError
from bot.importer.team import TeamImporter
from bot.importer.values import FORMULA_STARTS, AmountReader
from bot.memory import fewer_collections

log = logging.getLogger(__name__)

KINDS: Mapping[str, type[KindImporter[Any]]] = {
    "customers": CustomerImporter,
    "invoices": InvoiceImporter,
    "payments": PaymentImporter,
    "team": TeamImporter,
}
BATCH_ROWS = 5000
CENT = Decimal("0.01")
INVOICES = TABLES["invoices"]
_SIGNED_NUMBER = re.compile(r"[+-][\d.,' ]*")


class _Rejects:
    """The rejects CSV: the bad rows as they were, plus an `error` column; written beside."""

    def __init__(self, path: Path, header: list[str], delimiter: str) -> None:
        self.path = path
        self.partial = path.with_name(path.name + ".part")
        self.header = header
        self.delimiter = delimiter
        self._file: TextIO | None = None
        self._writer: Any = None

    def write(self, cells: list[str], message: str) -> None:
        if self._writer is None:
            self._file = self.partial.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file, delimiter=self.delimiter)
            self._writer.writerow([*self.header, "error"])
        width = len(self.header)
        padded = cells[:width] + [""] * (width - len(cells))
        self._writer.writerow([_inert(cell) for cell in (*padded, message)])

    def finish(self, keep: bool) -> None:
        if self._file is None:
            return
        self._file.close()
        if keep:
            self.partial.replace(self.path)
        else:
            self.partial.unlink(missing_ok=True)


def _inert(cell: str) -> str:
    """The cell as a spreadsheet shows it without evaluating it: a formula gets a leading '.

    A signed plain number ("-5", "+1,234.50") evaluates to itself and is left as it is.
    """
    if not cell.startswith(FORMULA_STARTS) or _SIGNED_NUMBER.fullmatch(cell):
        return cell
    return "'" + cell


def _check_rejects_path(rejects: Path, source: Path) -> None:
    """Refuse, before anything is imported, a rejects path that cannot take the rejects."""
    if rejects.is_dir():
        raise ImportFileError(f"--rejects {rejects}: is a directory; give a file name")
    if not rejects.parent.is_dir():
        raise ImportFileError(f"--rejects {rejects}: directory {rejects.parent} does not exist")
    same = rejects.exists() and source.exists() and rejects.samefile(source)
    if same or rejects.resolve() == source.resolve():
        raise ImportFileError(f"--rejects {rejects}: is the file being imported")
    if not os.access(rejects.parent, os.W_OK | os.X_OK):
        raise ImportFileError(f"--rejects {rejects}: directory {rejects.parent} is not writable")


def _check_date_format(date_format: str | None) -> None:
    if date_format is None:
        return
    if "%" not in date_format:
        raise ImportFileError(f"--date-format {date_format!r}: use strftime codes like %m/%d/%Y")
    sample = date(2001, 12, 31)
    try:
        parsed = datetime.strptime(sample.strftime(date_format), date_format).date()
    except ValueError:
        parsed = None
    if parsed != sample:
        raise ImportFileError(
            f"--date-format {date_format!r} does not give a full date (year, month, day)"
        )


def _balances(conn: Connection, today: date) -> tuple[Decimal, Decimal]:
    remaining = INVOICES.c.amount - INVOICES.c.amount_paid
    query = select(
        func.coalesce(func.sum(remaining), 0),
        func.coalesce(func.sum(case((INVOICES.c.due_date < today, remaining), else_=0)), 0),
    ).where(INVOICES.c.status == InvoiceStatus.OPEN)
    open_total, past_due = conn.execute(query).one()
    return Decimal(open_total).quantize(CENT), Decimal(past_due).quantize(CENT)


def import_file(
    database: Database,
    kind: str,
    path: Path,
    *,
    mapping: Mapping[str, str] | None = None,
    date_format: str | None = None,
    dry_run: bool = False,
    skip_invalid: bool = False,
    rejects_path: Path | None = None,
    assign: bool = True,
    today: date,
    default_tz: str | ZoneInfo,
    actor: str = "cli",
    progress: bool = False,
    currency: str = "USD",
    reverse_payments: bool = False,
    on_wait: Callable[[], None] | None = None,
    decimal_mark: str | None = None,
) -> ImportReport:
    """Import one CSV file of `kind`; bad rows are in the report, a bad file raises.

    Imports into one ledger run one at a time: when another is running, `on_wait()` is called
    once and this one waits for it to finish.
    """
    importer_class = KINDS.get(kind)
    if importer_class is None:
        raise ImportFileError(f"unknown kind {kind!r} (one of {', '.join(KINDS)})")
    _check_date_format(date_format)
    path = Path(path)
    report = ImportReport(kind=kind, path=path, dry_run=dry_run, skip_invalid=skip_invalid)
    if skip_invalid:
        report.rejects_path = rejects_path or path.with_name(f"{path.stem}.rejects.csv")
        if not dry_run:
            _check_rejects_path(report.rejects_path, path)
    with (CsvSource(path, importer_class.columns, mapping) as source,
          database.uow(on_wait=on_wait) as uow):
        report.ignored_columns = source.ignored
        conn = uow.session.connection()
        # Before anything is read: what the import checks must not change under it.
        take_import_lock(conn, on_wait)
        context = ImportContext(
            conn=conn, report=report, today=today, now=utcnow(), date_format=date_format,
            default_tz=default_tz,
            currency=currency, reverse_payments=reverse_payments,
            amounts=AmountReader(decimal_mark),
        )
        importer = importer_class(context)
        rejects = (
            _Rejects(report.rejects_path, source.header, source.delimiter)
            if report.rejects_path is not None and not dry_run
            else None
        )
        bar = ProgressBar(f"importing {kind}", source.size) if progress else None
        try:
            with fewer_collections():
                _stream(source, importer, report, rejects, bar)
            if report.ok or skip_invalid:
                _after(uow, context, assign=assign, actor=actor)
                report.complete = True
                if not dry_run:
                    uow.commit()
                    report.committed = True
        finally:
            if rejects is not None:
                rejects.finish(keep=report.committed)
    log.info(
        "import %s %s: rows=%d created=%d updated=%d unchanged=%d rejected=%d committed=%s",
        kind, path.name, report.rows, report.counts.created, report.counts.updated,
        report.counts.unchanged, report.counts.rejected, report.committed,
    )
    return report


def _stream(
    source: CsvSource,
    importer: KindImporter[Any],
    report: ImportReport,
    rejects: _Rejects | None,
    bar: ProgressBar | None,
) -> None:
    """Parse every row and write the good ones; bad ones go to the report (and rejects)."""
    bad = _BadRows(source, report, rejects)
    fields = list(source.fields.items())
    width = source.width
    batch: list[Pending[Any]] = []
    for line, cells in source.rows():
        report.rows += 1
        if len(cells) != width:
            bad.reject(line, cells, [_wrong_width(source.header, cells)])
            continue
        try:
            row = importer.parse(Cells({name: cells[at] for name, at in fields}))
        except RowInvalid as invalid:
            bad.reject(line, cells, [(source.column_name(f), m) for f, m in invalid.problems])
            continue
        batch.append(Pending(line, cells, row))
        if len(batch) >= BATCH_ROWS:
            bad.refuse(importer.write(batch))
            batch = []
            if bar is not None:
                bar.update(source.position(), report.rows)
    if batch:
        bad.refuse(importer.write(batch))
    bad.refuse(importer.finish())
    if bar is not None:
        bar.close(report.rows)


class _BadRows:
    """Where a bad row goes: counted and listed in the report, written to the rejects file."""

    def __init__(self, source: CsvSource, report: ImportReport, rejects: _Rejects | None) -> None:
        self.source, self.report, self.rejects = source, report, rejects

    def reject(self, line: int, cells: list[str], problems: list[tuple[str, str]]) -> None:
        """A row that failed parsing: (column, problem) pairs."""
        self.report.counts.rejected += 1
        errors = [RowError(line, column, message) for column, message in problems]
        for error in errors:
            self.report.add_error(error)
        if self.rejects is not None:
            self.rejects.write(cells, "; ".join(str(e) for e in errors))

    def refuse(self, refused: Iterable[Rejection]) -> None:
        """Rows the importer refused while writing (named by a canonical field)."""
        for rejection in refused:
            column = self.source.column_name(rejection.field)
            self.reject(rejection.line, rejection.cells, [(column, rejection.message)])


def _wrong_width(header: list[str], cells: list[str]) -> tuple[str, str]:
    """(column, problem) of a row with fewer or more cells than the header."""
    width = len(header)
    if len(cells) < width:
        return header[len(cells)], f"missing (the row has {len(cells)} cells, the header {width})"
    return str(width + 1), f"extra cell (the header has {width} columns, the row {len(cells)})"


def _after(uow: Any, context: ImportContext, *, assign: bool, actor: str) -> None:
    """Promises, auto-assignment, totals and the audit event, in the import's transaction."""
    report, conn = context.report, context.conn
    if context.affected_customers:
        report.promises_kept, report.promises_partially_kept = settle_promises(
            conn, context.affected_customers, context.today, context.default_tz
        )
    if assign:
        report.assignment, report.unassigned = assign_unowned(
            uow, conn, context.today, actor=actor
        )
    report.open_balance, report.past_due_balance = _balances(conn, context.today)
    counts = report.counts
    uow.audit(
        actor, "import", report.kind, report.path.name,
        rows=report.rows, created=counts.created, updated=counts.updated,
        unchanged=counts.unchanged, rejected=counts.rejected,
        customers_created=report.customers_created, payments_recorded=report.payments_recorded,
        invoices_settled=report.invoices_settled, promises_kept=report.promises_kept,
        promises_partially_kept=report.promises_partially_kept,
        payments_kept=report.kept_payments_count, payments_reversed=report.payments_reversed,
        unapplied=str(report.unapplied),
        assigned=sum(a.accounts for a in report.assignment),
        released=sum(b.accounts for b in report.released),
    )
