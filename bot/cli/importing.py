"""`collectbot import KIND FILE [--map SOURCE=FIELD ...] [--date-format FMT] [--dry-run] ...`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.console import terminal
from bot.cli.context import CommandError, iso_date, open_database
from bot.domain.money import DECIMAL_COMMA, DECIMAL_POINT
from bot.importer import KINDS, ImportFileError, import_file
from bot.services.metrics import MetricsConfig
from bot.services.snapshots import backfill
from bot.settings import load_settings
from bot.views.terminal_tables import import_rich

EXIT_SOME_REJECTED = 3  # 0: all imported, 1: nothing imported (bad rows), 2: bad file or usage


def _mapping(pairs: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for pair in pairs:
        source, sep, field = pair.partition("=")
        if not sep or not source.strip() or not field.strip():
            raise CommandError(f"--map {pair!r}: expected SOURCE=FIELD, e.g. 'Inv #=number'")
        mapping[source.strip()] = field.strip()
    return mapping


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "import", help="import customers, invoices, payments or the team roster from CSV",
        description="Import a CSV file. All-or-nothing: any bad row and nothing changes "
                    "(exit 1) unless --skip-invalid.",
    )
    parser.add_argument("kind", choices=sorted(KINDS), metavar="KIND",
                        help=f"one of {', '.join(KINDS)}")
    parser.add_argument("file", type=Path, metavar="FILE")
    parser.add_argument("--map", action="append", default=[], metavar="SOURCE=FIELD",
                        help="read the file's column SOURCE as FIELD (repeatable)")
    parser.add_argument("--date-format", metavar="FMT",
                        help="strptime format of dates, e.g. %%m/%%d/%%Y (default YYYY-MM-DD)")
    parser.add_argument("--dry-run", action="store_true",
                        help="check everything and report what would change; change nothing")
    parser.add_argument("--skip-invalid", action="store_true",
                        help="import the good rows; write bad rows to a rejects CSV")
    parser.add_argument("--rejects", type=Path, metavar="PATH",
                        help="where --skip-invalid writes bad rows (default FILE.rejects.csv)")
    marks = parser.add_mutually_exclusive_group()
    marks.add_argument("--decimal-comma", dest="decimal_mark", action="store_const",
                       const=DECIMAL_COMMA, help="amounts are written 1.234,50 (default: "
                       "the first amount with a decimal mark decides for the file)")
    marks.add_argument("--decimal-point", dest="decimal_mark", action="store_const",
                       const=DECIMAL_POINT, help="amounts are written 1,234.50")
    parser.add_argument("--no-assign", action="store_true",
                        help="leave customers without a collector unassigned")
    parser.add_argument("--reverse-payments", action="store_true",
                        help="invoices: an export showing less paid than the ledger records "
                             "reverses payments (a bounced cheque); without it the ledger's "
                             "figure is kept and the summary lists the invoice")
    parser.add_argument("--today", type=iso_date, metavar="DATE",
                        help="as-of date for past-due figures (default: today, team zone)")
    parser.set_defaults(handler=run)


def _tell_waiting() -> None:
    print("collectbot: another import is running on this ledger; waiting for it to finish "
          "(Ctrl-C to give up: nothing is imported until it starts)", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    mapping = _mapping(args.map)
    settings = load_settings()
    today = args.today or datetime.now(settings.zone).date()
    database = open_database(settings)
    try:
        report = import_file(
            database, args.kind, args.file, mapping=mapping, date_format=args.date_format,
            dry_run=args.dry_run, skip_invalid=args.skip_invalid, rejects_path=args.rejects,
            assign=not args.no_assign, today=today, default_tz=settings.zone, actor="cli",
            progress=sys.stderr.isatty(),
            currency=settings.currency, reverse_payments=args.reverse_payments,
            on_wait=_tell_waiting, decimal_mark=args.decimal_mark,
        )
    except ImportFileError as exc:
        database.dispose()
        raise CommandError(str(exc)) from None
    try:
        stream = sys.stdout if report.ok else sys.stderr
        console = terminal(stream=stream)
        if console is not None:
            console.print(import_rich(report))
        else:
            print(report.render(), file=stream)
        if report.committed:
            # The daily history is rebuilt from the ledger as it now stands (one sweep).
            with database.uow() as uow:
                days = backfill(uow.session, today, MetricsConfig.from_settings(settings))
                uow.commit()
            print(f"History: {days} days of figures up to {today.isoformat()} (exclusive)")
    finally:
        database.dispose()
    if report.ok:
        return 0
    # --skip-invalid: the good rows went in (or would, in a dry run), the bad ones did not.
    return EXIT_SOME_REJECTED if report.complete else 1
