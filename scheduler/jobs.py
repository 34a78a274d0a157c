"""The routine's jobs by name: what the scheduler runs, and `collectbot job NAME` by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.db import Database
from bot.settings import Settings
from bot.slack.client import SlackGateway


@dataclass(frozen=True)
class JobContext:
    database: Database
    gateway: SlackGateway
    settings: Settings


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

    report = run_call_lists(context.database, context.gateway, context.settings, now=now)
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


JOBS: dict[str, Callable[[JobContext, datetime], str | JobResult]] = {
    "call-lists": call_lists,
    "promises": promises,
    "snapshots": snapshots,
}


def run_job(name: str, context: JobContext, now: datetime) -> JobResult:
    """Run one job as if the clock read `now`; its summary, and failures if any."""
    try:
        job = JOBS[name]
    except KeyError:
        raise ValueError(f"unknown job {name!r} (one of: {', '.join(JOBS)})") from None
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    result = job(context, now)
    return result if isinstance(result, JobResult) else JobResult(result)
