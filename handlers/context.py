"""What every listener needs: settings, the database, the Slack gateway and the clock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from bot.db import Database
from bot.settings import Settings
from bot.slack.client import SlackGateway

Clock = Callable[[], datetime]
Task = Callable[[], None]


def system_clock() -> datetime:
    """Now, aware, in UTC: the only clock read in the HTTP app."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class HandlerContext:
    """Dependencies shared by the listeners; built once by create_app."""

    settings: Settings
    database: Database
    gateway: SlackGateway
    # Hands work to do after the ack to the app's work pool; the listener returns at once.
    # Required, never inline: Slack gets its answer only when the listener returns.
    defer: Callable[[Task], object]
    # The same for work with a deadline (views.open within the trigger's 3 s): its own pool.
    defer_urgent: Callable[[Task], object]
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
