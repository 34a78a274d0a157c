"""`collectbot job NAME [--now ISO-8601]`: run one scheduled job once, as if the clock read NOW."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bot.cli.context import aware_datetime, job_context
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    from scheduler.jobs import JOBS

    parser = subparsers.add_parser(
        "job", help="run one scheduled job once (what the scheduler runs)",
        description="Run one scheduled job once. Running it twice sends nothing twice."
        " Exits 1 when a delivery failed (the next run retries it).",
    )
    parser.add_argument("name", choices=sorted(JOBS), help="the job")
    parser.add_argument("--now", type=aware_datetime, help="pretend the clock reads this (ISO)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.jobs import run_job

    context = job_context(load_settings())
    try:
        result = run_job(args.name, context, args.now or datetime.now(UTC))
    finally:
        context.database.dispose()
    print(result.summary)
    # A failed delivery is retried by the next run, but whoever ran this one must know.
    return 1 if result.failed else 0
