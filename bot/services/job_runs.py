"""Job runs: each run of a scheduled job is a row, so `collectbot status` can tell the last one.

Runs older than KEEP_DAYS are deleted as a job starts again (an hourly job adds 8,760 rows a
year); a job's latest run is always kept, however old, so `status` can still tell it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.db.models import JobRun
from bot.db.uow import UnitOfWork

SUMMARY_LENGTH = 300
KEEP_DAYS = 90


@dataclass(frozen=True)
class LastRun:
    """A job's latest run: when, by whom, how it ended, its summary."""

    job: str
    run_id: int
    trigger: str
    started_at: datetime
    finished_at: datetime | None
    result: str  # running, ok, failed, error
    summary: str | None


def start_run(uow: UnitOfWork, job: str, *, trigger: str, started_at: datetime) -> int:
    """Record that `job` starts, forgetting its runs older than KEEP_DAYS; returns the run's id
    (the caller commits)."""
    uow.session.execute(
        delete(JobRun).where(
            JobRun.job == job, JobRun.started_at < started_at - timedelta(days=KEEP_DAYS))
    )
    run = JobRun(job=job, trigger=trigger, started_at=started_at, result="running")
    uow.session.add(run)
    uow.session.flush()
    return run.id


def finish_run(
    uow: UnitOfWork, run_id: int, *, result: str, summary: str, finished_at: datetime
) -> None:
    """Record how run `run_id` ended (the caller commits)."""
    uow.session.execute(
        update(JobRun)
        .where(JobRun.id == run_id)
        .values(result=result, summary=summary[:SUMMARY_LENGTH], finished_at=finished_at)
    )


def last_runs(session: Session) -> dict[str, LastRun]:
    """Each job's latest run, by job name."""
    latest = (
        select(JobRun.job, func.max(JobRun.id).label("run_id")).group_by(JobRun.job).subquery()
    )
    rows = session.scalars(select(JobRun).join(latest, JobRun.id == latest.c.run_id))
    return {
        row.job: LastRun(row.job, row.id, row.trigger, row.started_at, row.finished_at,
                         row.result, row.summary)
        for row in rows
    }
