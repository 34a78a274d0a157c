"""`collectbot scheduler`: the routine's clock (the Procfile's worker)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import CommandError, open_database
from bot.settings import load_settings
from bot.slack.client import SlackGateway


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scheduler",
        help="run the routine's jobs on their clock (one leader among processes)",
    )
    parser.set_defaults(handler=run)


def run(_args: argparse.Namespace) -> int:
    from scheduler.jobs import JobContext
    from scheduler.runner import run_scheduler

    settings = load_settings()
    try:
        gateway = SlackGateway.from_settings(settings)
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    database = open_database(settings)
    try:
        run_scheduler(JobContext(database, gateway, settings))
    finally:
        database.dispose()
    return 0
