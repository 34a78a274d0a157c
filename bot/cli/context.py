"""What subcommands share: settings, an upgraded database, a job context, argument types."""

from __future__ import annotations

import argparse
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy.exc import DBAPIError

from bot.db import Database
from bot.db.reachable import check_database, unavailable
from bot.domain.ledger_dates import out_of_range
from bot.settings import Settings, load_settings
from bot.slack.client import SlackGateway

if TYPE_CHECKING:
    from scheduler.jobs import JobContext


class CommandError(Exception):
    """A user mistake on the command line: printed as one line, exit status 2."""


def checked_database(settings: Settings) -> Database:
    """The configured database once it answers; DatabaseUnavailable (one line) if not."""
    database = Database(settings.url)
    try:
        check_database(database)
    except BaseException:
        database.dispose()
        raise
    return database


def open_database(settings: Settings | None = None) -> Database:
    """The configured database, migrated to the newest schema (first start builds it)."""
    settings = settings or load_settings()
    database = checked_database(settings)
    try:
        database.upgrade()
    except DBAPIError as exc:
        database.dispose()
        raise unavailable(exc, settings.url) from None
    return database


def job_context(settings: Settings) -> JobContext:
    """What a job needs: the upgraded database and, when SLACK_BOT_TOKEN is set, a gateway.

    A job that sends to Slack without one stops with one line naming the variable.
    """
    from scheduler.jobs import JobContext

    gateway = SlackGateway.from_settings(settings) if settings.slack_bot_token else None
    return JobContext(open_database(settings), gateway, settings)


def iso_date(value: str) -> date:
    """argparse type: YYYY-MM-DD, within the years a ledger can be asked about."""
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from None
    problem = out_of_range(day)
    if problem is not None:
        raise argparse.ArgumentTypeError(problem)
    return day


def period_days(value: str) -> int:
    """argparse type: a period of 1 to 3650 days."""
    try:
        days = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of days: {value!r}") from None
    if not 1 <= days <= 3650:
        raise argparse.ArgumentTypeError(f"the period is 1 to 3650 days, got {days}")
    return days


def aware_datetime(value: str) -> datetime:
    """argparse type: an ISO-8601 time with a zone, returned in UTC."""
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
