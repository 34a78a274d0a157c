"""What `collectbot status` reports, and which of it needs attention (its exit codes).

Plain data in, problems out: no database, no Slack, no clock (the check's time is passed in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import IntEnum


class Attention(IntEnum):
    """`collectbot status` exit codes; 2 stays the CLI's usage/configuration error."""

    OK = 0
    WORK_FAILED = 1  # a delivery failed, or a job's last run failed or raised
    # unreachable, its schema not at the code's migration head, or invoices in a currency
    # other than the ledger's
    DATABASE = 3
    SLACK = 4  # no bot token, or auth.test refused or unreachable
    SCHEDULER = 5  # no process leads the scheduler, or a job is overdue


# When several things are wrong, the exit code names the most fundamental one.
SEVERITY = (Attention.DATABASE, Attention.SLACK, Attention.SCHEDULER, Attention.WORK_FAILED)
# A job this late past its next run means the leader is stuck (APScheduler's misfire grace).
OVERDUE_AFTER = timedelta(minutes=15)


@dataclass(frozen=True)
class DatabaseState:
    url: str  # password hidden
    reachable: bool
    revision: str | None = None
    head: str | None = None
    error: str | None = None
    currency: str | None = None  # the ledger's (COLLECTBOT_CURRENCY)
    # Invoices (not void) in other currencies, by currency: a ledger is one currency.
    foreign_invoices: tuple[tuple[str, int], ...] = ()


@dataclass(frozen=True)
class SlackState:
    ok: bool
    team: str | None = None
    team_id: str | None = None
    bot_user: str | None = None
    url: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LeaderState:
    pid: int
    description: str


@dataclass(frozen=True)
class JobState:
    name: str
    next_run: datetime | None
    last_started: datetime | None = None
    last_finished: datetime | None = None
    result: str | None = None  # running, ok, failed, error; None: never ran
    summary: str | None = None
    trigger: str | None = None


@dataclass(frozen=True)
class FailedDelivery:
    key: str
    kind: str
    recipient: str
    attempts: int
    error: str | None


@dataclass(frozen=True)
class QueueState:
    pending: int
    retrying: int
    failed: int
    failures: tuple[FailedDelivery, ...] = ()
    # Deliveries waiting for another try, with the error of the last one.
    retries: tuple[FailedDelivery, ...] = ()


@dataclass(frozen=True)
class Status:
    """Everything status knows; the parts it could not read are None."""

    checked_at: datetime
    database: DatabaseState
    slack: SlackState
    leader: LeaderState | None
    leader_known: bool
    jobs: tuple[JobState, ...]
    deliveries: QueueState | None


@dataclass(frozen=True)
class Problem:
    attention: Attention
    text: str


def problems(status: Status) -> list[Problem]:
    """Every condition that needs an operator, most fundamental first."""
    found = [*_database_problems(status.database), *_slack_problems(status.slack)]
    if status.leader_known and status.leader is None:
        found.append(Problem(Attention.SCHEDULER, "no scheduler leads: run `collectbot scheduler`"))
    found.extend(_job_problems(status))
    if status.deliveries is not None and status.deliveries.failed:
        found.append(Problem(Attention.WORK_FAILED,
                             f"{status.deliveries.failed} delivery(ies) failed"))
    return sorted(found, key=lambda p: SEVERITY.index(p.attention))


def exit_code(found: list[Problem]) -> int:
    """0 when nothing needs attention, else the code of the most fundamental problem."""
    return int(min((p.attention for p in found), key=SEVERITY.index, default=Attention.OK))


def _database_problems(database: DatabaseState) -> list[Problem]:
    if not database.reachable:
        return [Problem(Attention.DATABASE, f"database unreachable: {database.error}")]
    if database.revision != database.head:
        return [Problem(Attention.DATABASE,
                        f"database at migration {database.revision or 'none'}, code at "
                        f"{database.head}: run `collectbot db upgrade`")]
    if database.foreign_invoices:
        held = ", ".join(f"{count:,} in {code}" for code, count in database.foreign_invoices)
        return [Problem(Attention.DATABASE,
                        f"the ledger is {database.currency} (COLLECTBOT_CURRENCY) but holds "
                        f"invoices {held}: amounts in unlike currencies are never added, so "
                        "reports leave them out; set COLLECTBOT_CURRENCY to the ledger's "
                        "currency, or void them and import them into a ledger of their own")]
    return []


def _slack_problems(slack: SlackState) -> list[Problem]:
    return [] if slack.ok else [Problem(Attention.SLACK, f"Slack: {slack.error}")]


def _job_problems(status: Status) -> list[Problem]:
    found: list[Problem] = []
    for job in status.jobs:
        if job.result in ("failed", "error"):
            found.append(Problem(Attention.WORK_FAILED,
                                 f"job {job.name}: last run {job.result}: {job.summary}"))
        late = (
            status.leader is not None
            and job.last_started is not None
            and job.next_run is not None
            and job.next_run < status.checked_at - OVERDUE_AFTER
        )
        if late:
            found.append(Problem(Attention.SCHEDULER,
                                 f"job {job.name} overdue since {job.next_run:%Y-%m-%d %H:%M} UTC"))
    return found
