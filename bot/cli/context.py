"""What every subcommand needs: settings and an upgraded database."""

from __future__ import annotations

from bot.db import Database
from bot.settings import Settings, load_settings


class CommandError(Exception):
    """A user mistake on the command line: printed as one line, exit status 2."""


def open_database(settings: Settings | None = None) -> Database:
    """The configured database, migrated to the newest schema (first start builds it)."""
    settings = settings or load_settings()
    database = Database(settings.url)
    database.upgrade()
    return database
