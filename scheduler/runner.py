"""The clock: APScheduler runs the routine's jobs in the leader process only."""

from __future__ import annotations

import dataclasses
import logging
import signal
import threading
from datetime import UTC, datetime, timedelta
from types import FrameType

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.logs import log_ids
from bot.settings import Settings
from bot.slack.client import SlackGateway
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
# ...unless a run started this recently: a leader taking over from one that just died does not
# run again what its predecessor ran a moment ago.
RECENT_RUN = timedelta(minutes=CALL_LISTS_EVERY_MINUTES)
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


def _recent_runs(context: JobContext, now: datetime) -> set[str]:
    from bot.services.job_runs import last_runs

    with context.database.uow(read_only=True) as uow:
        runs = last_runs(uow.session)
    return {name for name, run in runs.items() if run.started_at > now - RECENT_RUN}


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

    started = datetime.now(UTC)
    recent = _recent_runs(context, started)
    for name, trigger in job_triggers(context.settings).items():
        # The name is what APScheduler logs ("Running job call-lists ..."), not run's qualname.
        at_start = name in RUN_AT_START and name not in recent
        if name in RUN_AT_START and not at_start:
            logger.info("scheduler: %s ran less than %d minutes ago; not run again at start",
                        name, RECENT_RUN.seconds // 60)
        first = {"next_run_time": started} if at_start else {}
        scheduler.add_job(run, trigger, args=[name], id=name, name=name, **first)
    return scheduler


def run_scheduler(context: JobContext, *, stop: threading.Event | None = None) -> None:
    """Wait to lead, then run the jobs and a sender until stopped or leadership is lost.

    Stopping: the job running ends (jobs only queue), the sender finishes its message and
    hands its claim back, then leadership is let go, in that order.
    """
    from scheduler.senders import SenderPool

    stop = stop or threading.Event()
    # Jobs only queue: the sender sends, at Slack's pace, outside every job's transaction.
    context = dataclasses.replace(context, send_now=False)

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("scheduler: signal %s, stopping", signum)
        stop.set()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
    with Leadership(context.database.engine) as leadership:
        if not leadership.wait(should_stop=stop.is_set):
            return
        senders = SenderPool(context.database, context.settings,
                             gateway=_pool_gateway(context)).start()
        scheduler = build_scheduler(context)
        scheduler.start()
        try:
            while not stop.wait(30):
                if not leadership.alive():
                    logger.error("scheduler: leadership lost; stopping so a healthy process leads")
                    break
        finally:
            scheduler.shutdown(wait=True)
            senders.stop()
    logger.info("scheduler: stopped")


def _pool_gateway(context: JobContext) -> SlackGateway:
    """The sender's gateway: the token and URL, but a 429 raised, not slept on."""
    if context.settings.slack_bot_token is None:
        return context.gateway  # given by the caller (tests): its own 429 policy
    return SlackGateway.from_settings(context.settings, wait_rate_limits=False)
