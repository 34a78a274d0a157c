"""The clock: APScheduler runs the routine's jobs in the leader process only."""

from __future__ import annotations

import logging
import signal
import threading
from datetime import UTC, datetime
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.logs import log_ids
from bot.settings import Settings
from scheduler.jobs import JOBS, JobContext, run_job
from scheduler.leader import Leadership

logger = logging.getLogger(__name__)

# call-lists runs often: each collector's morning comes in their own zone, and a run that finds
# nothing due is a few cheap queries. Daily jobs run early in the team's zone.
CALL_LISTS_EVERY_MINUTES = 5


# Jobs the leader also runs as soon as it starts: lists due now; days of figures it missed.
# weekly-recap too: a leader started on the recap day after its time catches up (once a week);
# escalations: whatever went stale while no scheduler ran.
RUN_AT_START = frozenset({"call-lists", "snapshots", "weekly-recap", "escalations"})
# Escalations are checked every hour, a few minutes past (after the hour's other work).
ESCALATIONS_MINUTE = 7


def job_triggers(settings: Settings) -> dict[str, BaseTrigger]:
    """When each job runs: call-lists every few minutes, escalations hourly, snapshots
    (yesterday's figures) soon after midnight, the other daily ones at 06:00, in the team's
    zone."""
    triggers: dict[str, BaseTrigger] = {}
    for name in JOBS:
        if name == "call-lists":
            triggers[name] = IntervalTrigger(minutes=CALL_LISTS_EVERY_MINUTES)
        elif name == "escalations":
            triggers[name] = CronTrigger(minute=ESCALATIONS_MINUTE, timezone=settings.zone)
        elif name == "snapshots":
            triggers[name] = CronTrigger(hour=0, minute=15, timezone=settings.zone)
        elif name == "weekly-recap":
            # From its time on its day, then hourly until midnight (catch-up after a stop).
            triggers[name] = CronTrigger(
                day_of_week=settings.recap_day, hour=f"{settings.recap_time.hour}-23",
                minute=settings.recap_time.minute, timezone=settings.zone)
        else:
            triggers[name] = CronTrigger(hour=6, minute=0, timezone=settings.zone)
    return triggers


def next_run(name: str, trigger: BaseTrigger, last_started: datetime | None,
             now: datetime) -> datetime | None:
    """When the leader runs the job next, by its trigger and last run (in the past: overdue)."""
    if name in RUN_AT_START and last_started is None:
        return now  # the leader runs it as soon as it starts
    fire: datetime | None = trigger.get_next_fire_time(last_started, now)
    return fire


def build_scheduler(context: JobContext) -> BackgroundScheduler:
    """A scheduler with the routine's jobs; one memory job store, used only by the leader."""
    scheduler = BackgroundScheduler(
        timezone=context.settings.zone,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 15 * 60},
    )

    def run(name: str) -> None:
        # run_job logs the summary with the run's ids; what it raises is logged here.
        with log_ids(job=name):
            try:
                run_job(name, context, datetime.now(UTC), trigger="scheduler")
            except Exception:
                logger.exception("job %s failed", name)

    for name, trigger in job_triggers(context.settings).items():
        # The name is what APScheduler logs ("Running job call-lists ..."), not run's qualname.
        first = {"next_run_time": datetime.now(UTC)} if name in RUN_AT_START else {}
        scheduler.add_job(run, trigger, args=[name], id=name, name=name, **first)
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
