"""`collectbot scheduler`: the routine's clock (the Procfile's worker)."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import CommandError, job_context
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "scheduler",
        help="run the routine's jobs on their clock (one leader among processes)",
    )
    parser.set_defaults(handler=run)


def run(_args: argparse.Namespace) -> int:
    from scheduler.runner import run_scheduler

    settings = load_settings()
    if settings.slack_bot_token is None:
        raise CommandError("SLACK_BOT_TOKEN must be set: the routine's jobs send to Slack")
    context = job_context(settings)
    try:
        run_scheduler(context)
    finally:
        context.database.dispose()
    return 0
