"""`collectbot report [--as-of DATE] [--json]`."""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from typing import Any

from bot.cli.console import terminal
from bot.cli.context import iso_date, open_database, period_days
from bot.services.metrics import DEFAULT_PERIOD_DAYS, MetricsConfig, metrics_as_of
from bot.services.report import aging_report, render_report, report_json
from bot.settings import load_settings
from bot.views.terminal_metrics import render_metrics
from bot.views.terminal_tables import aging_rich, metrics_rich


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "report", help="the ledger's figures as of a date: AR, past due, aging by collector"
    )
    parser.add_argument("--as-of", type=iso_date, help="YYYY-MM-DD (default: today, team zone)")
    parser.add_argument("--period-days", type=period_days, default=DEFAULT_PERIOD_DAYS,
                        help="the metrics' period: N days ending on the as-of date (default 90)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    as_of = args.as_of or datetime.now(settings.zone).date()
    database = open_database(settings)
    try:
        with database.uow(read_only=True) as uow:
            report = aging_report(uow.session, as_of, settings.currency)
            metrics = metrics_as_of(uow.session, as_of, MetricsConfig.from_settings(settings),
                                    args.period_days)
    finally:
        database.dispose()
    console = terminal(json=args.json)
    if args.json:
        print(json.dumps({**report_json(report), "metrics": metrics.json()}, indent=2))
    elif console is not None:
        console.print(aging_rich(report))
        console.print()
        console.print(metrics_rich(metrics))
    else:
        print(render_report(report))
        print()
        print(render_metrics(metrics))
    return 0
