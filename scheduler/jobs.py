"""The routine's jobs by name: what the scheduler runs, and `collectbot job NAME` by hand."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import Database
from bot.logs import log_ids
from bot.settings import Settings, SettingsError
from bot.slack.client import SlackGateway

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobContext:
    database: Database
    slack_gateway: SlackGateway | None  # None: SLACK_BOT_TOKEN unset, jobs that send stop
    settings: Settings
    # True: a job sends what it queued before it returns (`collectbot job`, to report it);
    # False: it only queues, and the sender pool sends (the scheduler).
    send_now: bool = True

    @property
    def gateway(self) -> SlackGateway:
        if self.slack_gateway is None:
            raise SettingsError("SLACK_BOT_TOKEN: not set, and this job sends to Slack")
        return self.slack_gateway


@dataclass(frozen=True)
class JobResult:
    """A job's one-line summary, and how many of its deliveries failed (non-zero: exit 1)."""

    summary: str
    failed: int = 0

    def __str__(self) -> str:
        return self.summary


def call_lists(context: JobContext, now: datetime) -> JobResult:
    """Morning call lists for every collector whose morning it is (idempotent per collector-day)."""
    from bot.services.morning import run_call_lists

    report = run_call_lists(context.database, context.gateway, context.settings, now=now,
                            send=context.send_now)
    return JobResult(report.summary(), report.failed)


def promises(context: JobContext, now: datetime) -> str:
    """Promises whose date has passed unpaid become broken (idempotent)."""
    from bot.services.promises import run_promises_job

    result = run_promises_job(context.database, now=now, default_tz=context.settings.zone)
    return (f"promises: {result.checked} checked, {result.broken} broken, {result.kept} kept,"
            f" {result.partially_kept} partially kept")


def snapshots(context: JobContext, now: datetime) -> str:
    """Each day that ended without a snapshot gets one (catch-up; a year on the first run)."""
    from bot.services.metrics import MetricsConfig
    from bot.services.objectives import measure_baselines
    from bot.services.snapshots import run_snapshots

    with context.database.uow() as uow:
        config = MetricsConfig.from_settings(context.settings)
        result = run_snapshots(uow.session, now, config)
        # An objective whose start date has come gets its baseline measured on that date.
        measure_baselines(uow.session, result.last + timedelta(days=1), config)
        uow.commit()
    return result.summary()


def escalations(context: JobContext, now: datetime) -> JobResult:
    """Stale accounts to their collector's manager: escalations opened, merged and closed by
    the rules (a missed run is caught up by the next, which reads the ledger as it is), then
    sent in each manager's working hours and closed ones' messages updated (each once)."""
    from bot.services.escalation_delivery import deliver_escalations, plan_deliveries
    from bot.services.escalation_levels import LevelReport, run_levels, send_replies
    from bot.services.escalations import run_escalations
    from bot.services.handoffs import run_handoffs, tell_collectors
    from bot.services.refresh import refresh_after_change

    sending = context.slack_gateway is not None
    levels = LevelReport()
    with context.database.uow() as uow:
        run = run_escalations(uow, now=now, team_zone=context.settings.zone)
        handed = run_handoffs(uow, run.handoffs, now=now, team_zone=context.settings.zone)
        if sending:
            levels = run_levels(uow, context.settings, now=now)
        planned = plan_deliveries(uow, context.settings, now=now) if sending else None
        uow.commit()
    moved = f"; {handed.summary()}" if handed.moves else ""
    if planned is None:
        return JobResult(f"{run.summary()}{moved}; nothing sent: SLACK_BOT_TOKEN is not set")
    if handed.moves:
        tell_collectors(context.database, context.gateway, handed)
        refresh_after_change(
            context.database, context.gateway, now=now, default_tz=context.settings.zone,
            call_list_ids=[i for move in handed.moves for i in move.call_list_ids],
            customer_ids=[move.customer_id for move in handed.moves])
    report = deliver_escalations(context.database, context.gateway, context.settings, now=now,
                                 planned=planned, closed=[*run.closed, *levels.changed],
                                 send=context.send_now)
    if context.send_now:  # else the sender pool sends the replies queued
        replies, errors = send_replies(context.database, context.gateway, context.settings,
                                       now=now)
        report.sent += replies
        report.failed += len(errors)
        report.errors += errors
    climbed = f"; {levels.summary()}" if levels.reminded or levels.raised or levels.woke else ""
    return JobResult(f"{run.summary()}{moved}{climbed}; {report.summary()}", report.failed)


def weekly_recap(context: JobContext, now: datetime) -> JobResult:
    """Last week's recap to the team channel, on the recap day (once per week, ever)."""
    from bot.services.recap_post import run_weekly_recap

    result = run_weekly_recap(context.database, context.gateway, context.settings, now=now,
                              send=context.send_now)
    return JobResult(result.summary, result.failed)


JOBS: dict[str, Callable[[JobContext, datetime], str | JobResult]] = {
    "call-lists": call_lists,
    "promises": promises,
    "escalations": escalations,
    "snapshots": snapshots,
    "weekly-recap": weekly_recap,
}


def run_job(name: str, context: JobContext, now: datetime, *, trigger: str = "cli") -> JobResult:
    """Run one job as if the clock read `now`; its summary, and failures if any.

    Each run is recorded (`job_runs`) with how it ended, and every log line inside it carries
    the job's name and the run's id.
    """
    try:
        job = JOBS[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r} (one of: {', '.join(JOBS)})") from None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    from bot.services.job_runs import start_run

    with context.database.uow() as uow:
        run_id = start_run(uow, name, trigger=trigger, started_at=now)
        uow.commit()
    began = time.monotonic()
    with log_ids(job=name, job_run=run_id):
        try:
            outcome = job(context, now)
        except Exception as exc:
            _record(context, run_id, "error", f"{type(exc).__name__}: {exc}", now, began)
            raise
        result = outcome if isinstance(outcome, JobResult) else JobResult(outcome)
        _record(context, run_id, "failed" if result.failed else "ok", result.summary, now, began)
        # A failed delivery is retried by the next run, but an operator should see it.
        logger.log(logging.WARNING if result.failed else logging.INFO, "%s", result.summary)
    return result


def _record(  # noqa: PLR0917 (one private call shape, twice)
    context: JobContext, run_id: int, result: str, summary: str, now: datetime, began: float
) -> None:
    from bot.services.job_runs import finish_run

    finished_at = now + timedelta(seconds=time.monotonic() - began)
    with context.database.uow() as uow:
        finish_run(uow, run_id, result=result, summary=summary, finished_at=finished_at)
        uow.commit()
