"""The `collectbot` command: one module per subcommand, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from sqlalchemy.exc import OperationalError

from bot.cli.context import CommandError
from bot.db.reachable import DatabaseUnavailable, unavailable
from bot.logs import LOG_FORMATS, OneLineFormatter, configure_logging
from bot.settings import SettingsError, load_settings

__all__ = ["OneLineFormatter", "build_parser", "main"]

# Each module defines register(subparsers) and sets `handler` on its parser.
SUBCOMMANDS = (
    "bot.cli.db",
    "bot.cli.demo",
    "bot.cli.escalations",
    "bot.cli.importing",
    "bot.cli.policy",
    "bot.cli.recap",
    "bot.cli.report",
    "bot.cli.job",
    "bot.cli.objective",
    "bot.cli.preview",
    "bot.cli.scheduler",
    "bot.cli.senders",
    "bot.cli.serve",
    "bot.cli.status",
)

LONG_RUNNING = frozenset({"serve", "scheduler", "senders"})


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collectbot",
        description="Run a collections team's daily routine in Slack.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    parser.add_argument("--log-format", choices=LOG_FORMATS,
                        help="text (default) or json: one object a line with the event's ids"
                        " (or COLLECTBOT_LOG_FORMAT)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def _log_format(chosen: str | None) -> str:
    if chosen is not None:
        return chosen
    try:
        return load_settings().log_format
    except SettingsError:
        return "text"  # the command itself reports the bad setting, in one line


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Long-running processes log their work; one-shot commands print results, logs only -v.
    quiet = logging.INFO if args.command in LONG_RUNNING else logging.WARNING
    configure_logging(logging.DEBUG if args.verbose else quiet, _log_format(args.log_format))
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        status: int = args.handler(args)
    except (SettingsError, CommandError, DatabaseUnavailable) as exc:
        print(f"collectbot: error: {exc}", file=sys.stderr)
        return 2
    except OperationalError as exc:
        # The database went away or refused a write (read-only file, disk full): the
        # environment, not a bug. One line; -v logs the traceback.
        logging.getLogger(__name__).debug("database error", exc_info=True)
        print(f"collectbot: error: {unavailable(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`collectbot report | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status
