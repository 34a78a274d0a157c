"""`collectbot db upgrade|current`."""

from __future__ import annotations

import argparse
from typing import Any

from bot.cli.context import checked_database
from bot.db.migrate import current_revision, head_revision, upgrade
from bot.settings import load_settings


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("db", help="database schema: upgrade, current")
    parser.add_argument("action", choices=["upgrade", "current"])
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    database = checked_database(settings)
    try:
        if args.action == "upgrade":
            before = current_revision(database.engine)
            upgrade(database.engine)
            after = current_revision(database.engine)
            print(f"database at revision {after} (was {before or 'empty'})")
        else:
            print(f"current {current_revision(database.engine) or 'empty'}, "
                  f"head {head_revision(database.engine)}")
    finally:
        database.dispose()
    return 0
