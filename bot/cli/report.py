"""`collectbot report [--as-of DATE] [--json]`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from bot.cli.context import iso_date, open_database
from bot.services.report import aging_report, render_report, report_json
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="the ledger's figures as of a date: AR, past due, aging by collector"
    )
    parser.add_argument("--as-of", type=iso_date, help="YYYY-MM-DD (default: today, team zone)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    as_of = args.as_of or datetime.now(settings.zone).date()
    database = open_database(settings)
    try:
        with database.uow() as uow:
            report = aging_report(uow.session, as_of, settings.currency)
    finally:
        database.dispose()
    if args.json:
        print(json.dumps(report_json(report), indent=2))
    else:
        print(render_report(report))
    return 0
