"""`collectbot senders [--workers N]`: more sender workers for the delivery queue (PostgreSQL)."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from types import FrameType
from typing import Any

from bot.cli.context import CommandError, open_database
from bot.settings import load_settings

logger = logging.getLogger(__name__)

MAX_WORKERS = 32


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "senders",
        help="send queued deliveries at Slack's pace, beside the scheduler's own sender "
        "(PostgreSQL)",
    )
    parser.add_argument("--workers", type=int, default=2,
                        help=f"sender threads (default 2, at most {MAX_WORKERS})")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    from scheduler.senders import SenderPool

    settings = load_settings()
    if settings.slack_bot_token is None:
        raise CommandError("SLACK_BOT_TOKEN must be set: senders post to Slack")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise CommandError(f"--workers must be 1..{MAX_WORKERS}, not {args.workers}")
    if settings.url.get_backend_name() != "postgresql":
        raise CommandError("senders need PostgreSQL: on SQLite the scheduler's one sender "
                           "sends everything")
    stop = threading.Event()

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: finishing the messages in flight", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    database = open_database(settings)
    try:
        pool = SenderPool(database, settings, workers=args.workers).start()
        while not stop.wait(1):
            pass
        pool.stop()
    finally:
        database.dispose()
    return 0
