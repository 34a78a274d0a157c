"""`collectbot recap [--as-of DATE] [--json] [--png PATH]`: the weekly recap in the terminal."""

from __future__ import annotations

import argparse
import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.cli.console import terminal
from bot.cli.context import iso_date, open_database
from bot.services.metrics import MetricsConfig
from bot.services.recap import build_recap
from bot.settings import load_settings
from bot.views.recap import recap_json, recap_rich, recap_terminal


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "recap", help="the weekly recap (what Monday's post says) for the week ending a date")
    parser.add_argument("--as-of", type=iso_date,
                        help="the week's last day, YYYY-MM-DD (default: yesterday, team zone)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--png", type=Path, help="also write the two-panel chart to this file")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.views.recap_chart import recap_png

    settings = load_settings()
    as_of = args.as_of or datetime.now(settings.zone).date() - timedelta(days=1)
    database = open_database(settings)
    try:
        with database.uow() as uow:
            recap = build_recap(uow.session, as_of, MetricsConfig.from_settings(settings))
    finally:
        database.dispose()
    if args.png is not None:
        args.png.write_bytes(recap_png(recap))
    console = terminal(json=args.json)
    if args.json:
        print(json.dumps(recap_json(recap), indent=2))
    elif console is not None:
        for n, text in enumerate(recap_rich(recap)):
            console.print(*(() if n == 0 else ("",)), text, sep="\n")
    else:
        print(recap_terminal(recap))
    if args.png is not None and not args.json:
        print(f"\nChart written to {args.png}")
    return 0
