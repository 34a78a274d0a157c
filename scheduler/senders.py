"""Sender workers: threads that drain the delivery queue at Slack's pace until told to stop.

The scheduler runs one; `collectbot senders --workers N` runs more on PostgreSQL (each claims
its own rows with SKIP LOCKED; channels, the workspace cap and 429s are paced together through
the database). Told to stop, a sender finishes the message it is posting, hands the rest of
its delivery back to the queue, and returns: a restart resumes where it stopped.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import datetime

from sqlalchemy.exc import SQLAlchemyError

from bot.db import Database
from bot.domain.pacing import Pace
from bot.logs import log_ids
from bot.services.deliveries import queued
from bot.services.delivery_sender import Claim, Sending, claim_next, pace_of, send_claimed, utc_now
from bot.settings import Settings
from bot.slack.client import SlackGateway

logger = logging.getLogger(__name__)

# A sender with nothing to do looks again this often (at once when this process queues).
IDLE_POLL_SECONDS = 0.5
# After an unexpected error (the database went away), wait before trying again.
ERROR_PAUSE_SECONDS = 5.0


class SenderPool:
    """`workers` sender threads; `stop()` asks them to finish their message and return."""

    def __init__(self, database: Database, settings: Settings, *, workers: int = 1,
                 gateway: SlackGateway | None = None, pace: Pace | None = None) -> None:
        if workers < 1:
            raise ValueError("a sender pool has at least one worker")
        self._database = database
        # A 429 is raised, not slept on: the pool closes that method for every sender.
        self._gateway = gateway or SlackGateway.from_settings(settings, wait_rate_limits=False)
        self._how = Sending(pace=pace or pace_of(settings), clock=utc_now, wait=self._wait,
                            pooled=True)
        self._stopping = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), name=f"sender-{n}", daemon=True)
            for n in range(1, workers + 1)
        ]

    def start(self) -> SenderPool:
        for thread in self._threads:
            thread.start()
        logger.info("senders: %d worker(s) draining the delivery queue", len(self._threads))
        return self

    def stop(self, timeout: float = 60.0) -> bool:
        """Ask every sender to stop and wait for them; False if one is still busy at timeout."""
        self._stopping.set()
        queued.set()  # wakes the idle ones
        for thread in self._threads:
            thread.join(timeout)
        alive = [t.name for t in self._threads if t.is_alive()]
        if alive:
            logger.warning("senders still sending at exit: %s", ", ".join(alive))
        else:
            logger.info("senders: stopped")
        return not alive

    def _wait(self, seconds: float) -> bool:
        return self._stopping.wait(seconds) if seconds > 0 else self._stopping.is_set()

    def _run(self, number: int) -> None:
        holder = f"{socket.gethostname()}:{os.getpid()}:{number}"[-64:]
        while not self._stopping.is_set():
            try:
                claim = claim_next(self._database, holder=holder, now=utc_now())
                if isinstance(claim, Claim):
                    with log_ids(delivery_key=claim.key):
                        send_claimed(self._database, self._gateway, claim, self._how)
                    continue
            except (SQLAlchemyError, OSError):
                logger.exception("sender %s: cannot reach the queue; trying again", holder)
                self._wait(ERROR_PAUSE_SECONDS)
                continue
            self._idle(claim)

    def _idle(self, opens: datetime | None) -> None:
        delay = IDLE_POLL_SECONDS
        if opens is not None:
            delay = min(delay, max(0.005, (opens - utc_now()).total_seconds()))
        if queued.wait(delay):
            queued.clear()
