"""What every listener needs: settings, the database, the Slack gateway and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.db import Database
from bot.settings import Settings
from bot.slack.client import SlackGateway

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, aware, in UTC: the only clock read in the HTTP app."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Dependencies shared by the listeners; built once by create_app."""

    settings: Settings
    database: Database
    gateway: SlackGateway
    clock: Clock = system_clock

    def now(self) -> datetime:
        """The current instant from the injected clock; must be timezone-aware."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the app clock returned a naive datetime")
        return moment

    @property
    def default_tz(self) -> str:
        return self.settings.timezone
