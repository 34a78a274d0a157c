"""The clock: APScheduler runs the routine's jobs in the leader process only."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from scheduler.jobs import JOBS, JobContext, run_job
from scheduler.leader import Leadership

logger = logging.getLogger(__name__)

# call-lists runs often: each collector's morning comes in their own zone, and a run that finds
# nothing due is a few cheap queries. Daily jobs run early in the team's zone.
CALL_LISTS_EVERY_MINUTES = 5


def build_scheduler(context: JobContext) -> BackgroundScheduler:
    """A scheduler with the routine's jobs; one memory job store, used only by the leader."""
    scheduler = BackgroundScheduler(
        timezone=context.settings.zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )

    def run(name: str) -> None:
        try:
            result = run_job(name, context, datetime.now(UTC))
            logger.log(logging.WARNING if result.failed else logging.INFO, "%s", result)
        except Exception:
            logger.exception("job %s failed", name)

    scheduler.add_job(run, IntervalTrigger(minutes=CALL_LISTS_EVERY_MINUTES),
                      args=["call-lists"], id="call-lists", next_run_time=datetime.now(UTC))
    for name in JOBS:
        if name not in {"call-lists", "snapshots"}:
            scheduler.add_job(run, CronTrigger(hour=6, minute=0, timezone=context.settings.zone),
                              args=[name], id=name)
    # Yesterday's figures, soon after midnight; at start-up too, so missed days are caught up.
    scheduler.add_job(run, CronTrigger(hour=0, minute=15, timezone=context.settings.zone),
                      args=["snapshots"], id="snapshots", next_run_time=datetime.now(UTC))
    return scheduler


def run_scheduler(context: JobContext, *, stop: threading.Event | None = None) -> None:
    """Wait to lead, then run the jobs until stopped or leadership is lost."""
    stop = stop or threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("scheduler: signal %s, stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    with Leadership(context.database.engine) as leadership:
        if not leadership.wait(should_stop=stop.is_set):
            return
        scheduler = build_scheduler(context)
        scheduler.start()
        try:
            while not stop.wait(30):
                if not leadership.alive():
                    logger.error("scheduler: leadership lost; stopping so a healthy process leads")
                    break
        finally:
            scheduler.shutdown(wait=True)
