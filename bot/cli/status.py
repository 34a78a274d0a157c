"""`collectbot status [--json]`: jobs, leader, delivery queue, database, Slack; a probe.

Exit codes (bot.domain.health.Attention): 0 all well; 1 a delivery failed or a job's last run
failed; 3 the database is unreachable, not migrated to the code's head, or holds invoices in a
currency other than COLLECTBOT_CURRENCY; 4 Slack refused or could not be reached (or no bot
token); 5 no scheduler leads, or a job is overdue. With several
problems, the most fundamental one's code (3, 4, 5, then 1). 2 is a usage or settings error.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from bot.cli.console import terminal
from bot.db import Database
from bot.db.migrate import current_revision, head_revision
from bot.domain.health import (
    DatabaseState,
    JobState,
    LeaderState,
    QueueState,
    SlackState,
    Status,
    exit_code,
    problems,
)
from bot.settings import Settings, load_settings
from bot.slack.client import SlackError, SlackGateway
from bot.views.status import status_json, status_rich, status_text


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="jobs, leader, deliveries, database and Slack at a glance; non-zero when "
        "something needs attention",
        description=__doc__.split("\n\n", 1)[1] if __doc__ else None,
    )
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    settings = load_settings()
    status = gather(settings, datetime.now(UTC))
    found = problems(status)
    code = exit_code(found)
    console = terminal(json=args.json)
    if args.json:
        print(json.dumps(status_json(status, found, code), indent=2))
    elif console is not None:
        console.print(status_rich(status, found, code))
    else:
        print(status_text(status, found, code))
    return code


def gather(settings: Settings, now: datetime) -> Status:
    """Read everything status reports; what cannot be read is reported, never raised."""
    from scheduler.leader import current_leader

    # Not upgraded: status reports the revision as it is. A probe must not hang on a dead host.
    postgresql = settings.url.get_backend_name() == "postgresql"
    database = (Database(settings.url, connect_args={"connect_timeout": 10}) if postgresql
                else Database(settings.url))
    try:
        state = _database_state(settings, database)
        migrated = state.reachable and state.revision == state.head
        jobs, queue = _jobs_and_queue(settings, database, now, readable=migrated)
        if migrated:
            state = replace(state, foreign_invoices=_foreign(settings, database))
        leader: LeaderState | None = None
        known = state.reachable or database.dialect == "sqlite"
        if known:
            try:
                found = current_leader(database.engine)
            except (SQLAlchemyError, OSError):
                known = False
            else:
                leader = LeaderState(found.pid, found.description) if found else None
    finally:
        database.dispose()
    return Status(checked_at=now, database=state, slack=_slack_state(settings), leader=leader,
                  leader_known=known, jobs=jobs, deliveries=queue)


def _database_state(settings: Settings, database: Database) -> DatabaseState:
    url = settings.url.render_as_string(hide_password=True)
    try:
        revision = current_revision(database.engine)
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]
        return DatabaseState(url, reachable=False, error=reason)
    return DatabaseState(url, reachable=True, revision=revision,
                         head=head_revision(database.engine), currency=settings.currency)


def _foreign(settings: Settings, database: Database) -> tuple[tuple[str, int], ...]:
    from bot.services.status import foreign_invoices

    with database.uow(read_only=True) as uow:
        return foreign_invoices(uow.session, settings.currency)


def _jobs_and_queue(
    settings: Settings, database: Database, now: datetime, *, readable: bool
) -> tuple[tuple[JobState, ...], QueueState | None]:
    from bot.services.job_runs import last_runs
    from bot.services.status import delivery_queue
    from scheduler.runner import job_triggers, next_run

    runs, queue = {}, None
    if readable:
        with database.uow() as uow:
            runs = last_runs(uow.session)
            queue = delivery_queue(uow.session)
    jobs = []
    for name, trigger in job_triggers(settings).items():
        last = runs.get(name)
        started = last.started_at if last else None
        jobs.append(JobState(
            name, next_run(name, trigger, started, now), started,
            last.finished_at if last else None, last.result if last else None,
            last.summary if last else None, last.trigger if last else None,
        ))
    return tuple(jobs), queue


def _slack_state(settings: Settings) -> SlackState:
    if settings.slack_bot_token is None:
        return SlackState(ok=False, error="SLACK_BOT_TOKEN is not set")
    # A probe answers quickly: one retry, not a job's patience.
    gateway = SlackGateway.from_settings(settings, max_retries=1, backoff=0.2, timeout=10)
    try:
        answer = gateway.auth_test()
    except SlackError as exc:
        return SlackState(ok=False, error=f"auth.test failed: {exc.code}")
    return SlackState(ok=True, team=answer.get("team"), team_id=answer.get("team_id"),
                      bot_user=answer.get("user"), url=answer.get("url"))
