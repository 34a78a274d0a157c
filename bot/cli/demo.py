"""`collectbot demo [--dir DIR] [--today DATE]`: the whole routine on a synthetic ledger."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from bot.cli.context import CommandError, iso_date
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "demo", help="build a synthetic ledger in a fresh SQLite file and show the routine on it",
        description="Write a synthetic ledger (team, customers, invoices, payments) as CSV, "
                    "import it into DIR/demo.sqlite3 with the real import, and print each step.",
    )
    parser.add_argument("--dir", type=Path, default=Path("demo-out"), metavar="DIR",
                        help="where the CSV files and demo.sqlite3 go (default ./demo-out; "
                             "an old demo.sqlite3 there is replaced)")
    parser.add_argument("--today", type=iso_date, metavar="DATE",
                        help="the demo's today, YYYY-MM-DD (default: today, team zone)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.demo import DemoError, run_demo  # numpy and matplotlib: only when the demo runs

    today = args.today or datetime.now(load_settings().zone).date()
    if not args.verbose:
        # The demo prints each import's summary itself; the per-import log lines would repeat it.
        logging.getLogger("bot").setLevel(logging.WARNING)
    try:
        result = run_demo(args.dir, today=today, out=sys.stdout)
    except (DemoError, ValueError) as exc:
        raise CommandError(str(exc)) from None
    result.database.dispose()
    return 0
