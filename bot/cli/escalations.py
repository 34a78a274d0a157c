"""`collectbot escalations [--json]`: the open escalations, oldest first, for an operator."""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from bot.cli.console import terminal
from bot.cli.context import open_database
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "escalations", help="the open escalations: account, past due, reasons, who decides",
        description="List every open escalation, oldest first, with its reasons in words."
        " The hourly `escalations` job opens and closes them (`collectbot job escalations`).",
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from bot.domain.calendar import local_date
    from bot.services.escalations import open_escalations
    from bot.views.terminal_escalations import (
        escalations_json,
        escalations_rich,
        escalations_text,
    )

    settings = load_settings()
    today = local_date(datetime.now(UTC), settings.zone)
    database = open_database(settings)
    try:
        with database.uow() as uow:
            lines = open_escalations(uow.session, today=today)
    finally:
        database.dispose()
    console = terminal(json=args.json)
    if args.json:
        print(json.dumps(escalations_json(lines, today), indent=2))
    elif console is not None and lines:
        console.print(escalations_rich(lines))
    else:
        print(escalations_text(lines))
    return 0
