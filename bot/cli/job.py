"""`collectbot job NAME [--now ISO-8601]`: run one scheduled job once, as if the clock read NOW."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from bot.cli.context import CommandError, open_database
from bot.settings import load_settings
from bot.slack.client import SlackGateway


def aware_datetime(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 time: {value!r} (e.g. 2026-11-23T13:30:00Z)"
        ) from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(
            f"{value!r} has no time zone: add Z or an offset like -05:00"
        )
    return moment.astimezone(UTC)


def register(subparsers: Any) -> None:
    from scheduler.jobs import JOBS

    parser = subparsers.add_parser(
        "job", help="run one scheduled job once (what the scheduler runs)",
        description="Run one scheduled job once. Running it twice sends nothing twice.",
    )
    parser.add_argument("name", choices=sorted(JOBS), help="the job")
    parser.add_argument("--now", type=aware_datetime, help="pretend the clock reads this (ISO)")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.jobs import JobContext, run_job

    settings = load_settings()
    try:
        gateway = SlackGateway.from_settings(settings)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    database = open_database(settings)
    try:
        summary = run_job(args.name, JobContext(database, gateway, settings),
                          args.now or datetime.now(UTC))
    finally:
        database.dispose()
    print(summary)
    return 0
