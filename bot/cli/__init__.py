"""The `collectbot` command: one module per subcommand, each with `register(subparsers)`."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli.context import CommandError
from bot.settings import SettingsError

# Each module defines register(subparsers) and sets `handler` on its parser.
SUBCOMMANDS = (
    "bot.cli.db",
    "bot.cli.demo",
    "bot.cli.importing",
    "bot.cli.policy",
    "bot.cli.report",
    "bot.cli.job",
    "bot.cli.objective",
    "bot.cli.preview",
    "bot.cli.scheduler",
    "bot.cli.serve",
)

LONG_RUNNING = frozenset({"serve", "scheduler"})


class OneLineFormatter(logging.Formatter):
    """One log line per record: line breaks in the message (from anyone's input) are escaped.

    A traceback, which is ours, keeps its lines; a value a user sent cannot forge a record.
    """

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (logging's name)
        line = super().formatMessage(record)
        return line.replace("\r", "\\r").replace("\n", "\\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="collectbot",
        description="Run a collections team's daily routine in Slack.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in SUBCOMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    # Long-running processes log their work; one-shot commands print results, logs only -v.
    quiet = logging.INFO if args.command in LONG_RUNNING else logging.WARNING
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if args.verbose else quiet, handlers=[handler])
    if not args.verbose:
        logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        status: int = args.handler(args)
    except (SettingsError, CommandError) as exc:
        print(f"collectbot: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (`collectbot report | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status
