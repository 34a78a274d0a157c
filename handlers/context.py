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


def run_now(task: Task) -> None:
    """Runs a task in the caller's thread (for a context without a work pool)."""
    task()


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
    # Hands work to do after the ack to the app's work pool; the listener returns at once.
    defer: Callable[[Task], object] = run_now
    # The same for work with a deadline (views.open within the trigger's 3 s): its own pool.
    defer_urgent: Callable[[Task], object] = run_now

    def now(self) -> datetime:
        """The current instant from the injected clock; must be timezone-aware."""
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("the app clock returned a naive datetime")
        return moment

    @property
    def default_tz(self) -> str:
        return self.settings.timezone
