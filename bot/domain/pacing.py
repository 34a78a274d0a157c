"""How fast deliveries go out, and what a failed try means: plain rules, no clock, no Slack.

Slack allows about one message a second in a channel and a few hundred a minute in a
workspace; a 429 names how long one method must wait. Senders share these paces through the
database (bot/services/delivery_gates.py); here are only the numbers and the decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

# Slack error codes worth another try: the server or the network failed, not the request.
TRANSIENT_ERRORS = frozenset({
    "internal_error", "fatal_error", "service_unavailable", "request_timeout",
    "connection_failed", "connection_lost", "ratelimited",
})
RATE_LIMITED = "ratelimited"


@dataclass(frozen=True)
class Pace:
    """The pace senders keep and how often they try."""

    channel_interval: timedelta  # between two messages to one channel
    workspace_per_minute: int  # messages a minute, the whole workspace
    tries: int  # tries (429s aside) before a delivery is given up as failed
    backoff: timedelta = timedelta(seconds=2)  # the first retry's wait; doubles each try
    max_backoff: timedelta = timedelta(minutes=5)
    # Messages that may go back to back before the workspace pace applies (absorbs jitter).
    workspace_burst: int = 2

    def __post_init__(self) -> None:
        if self.channel_interval < timedelta(0):
            raise ValueError("the channel interval cannot be negative")
        if self.workspace_per_minute < 1:
            raise ValueError("the workspace cap is at least 1 message a minute")
        if self.tries < 1:
            raise ValueError("a delivery gets at least one try")
        if self.workspace_burst < 1:
            raise ValueError("the workspace burst is at least 1")

    @property
    def workspace_interval(self) -> timedelta:
        """The time one message takes of the workspace's cap."""
        return timedelta(minutes=1) / self.workspace_per_minute


def is_transient(code: str) -> bool:
    """True when trying again may succeed (5xx, timeouts, lost connections, 429)."""
    return code in TRANSIENT_ERRORS or (code.startswith("http_5") and len(code) == 8)


def retry_delay(pace: Pace, tries_made: int) -> timedelta:
    """How long to wait after the `tries_made`-th failed try: doubling, capped."""
    doubled: timedelta = pace.backoff * (2 ** max(0, min(tries_made - 1, 20)))
    return min(doubled, pace.max_backoff)


def workspace_slot(next_free: datetime, now: datetime, pace: Pace) -> tuple[datetime, datetime]:
    """A message's turn in the workspace's pace (a GCRA with `workspace_burst`).

    `next_free` is the gate's theoretical time of the next message. Returns (when this
    message may go, the gate's new value): it goes at `now` if the burst allows, later if not.
    """
    interval = pace.workspace_interval
    tolerance = interval * (pace.workspace_burst - 1)
    go_at = max(now, next_free - tolerance)
    return go_at, max(next_free, go_at) + interval
