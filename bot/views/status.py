"""`collectbot status` read three ways: plain lines, JSON, and tables for a terminal."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot.domain.health import FailedDelivery, JobState, Problem, Status


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "—"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _database_line(status: Status) -> str:
    database = status.database
    if not database.reachable:
        return f"{database.url} · unreachable: {database.error}"
    return f"{database.url} · migration {database.revision or 'none'} (code: {database.head})"


def _slack_line(status: Status) -> str:
    slack = status.slack
    if not slack.ok:
        return f"not working: {slack.error}"
    return f"{slack.team} ({slack.team_id}) as {slack.bot_user} · {slack.url}"


def _leader_line(status: Status) -> str:
    if not status.leader_known:
        return "unknown (database unreachable)"
    return status.leader.description if status.leader is not None else "none: no scheduler runs"


def _last_run(job: JobState) -> str:
    if job.result is None:
        return "never ran"
    return f"{_when(job.last_started)} {job.result} ({job.trigger}): {job.summary or ''}".rstrip()


def _deliveries_line(status: Status) -> str:
    queue = status.deliveries
    if queue is None:
        return "unknown (database unreachable or not migrated)"
    return f"{queue.pending} pending, {queue.retrying} retrying, {queue.failed} failed"


def _verdict(found: list[Problem], code: int) -> list[str]:
    if not found:
        return ["all well (exit 0)"]
    return [f"needs attention (exit {code}):", *(f"  - {p.text}" for p in found)]


def status_text(status: Status, found: list[Problem], code: int) -> str:
    """Plain lines, stable for scripts and logs (no colour, no table)."""
    lines = [
        f"collectbot status at {_when(status.checked_at)}",
        f"database:   {_database_line(status)}",
        f"slack:      {_slack_line(status)}",
        f"leader:     {_leader_line(status)}",
        "jobs:",
        *(f"  {job.name}: last {_last_run(job)}; next {_when(job.next_run)}"
          for job in status.jobs),
        f"deliveries: {_deliveries_line(status)}",
    ]
    if status.deliveries is not None:
        for state, listed in (("failed", status.deliveries.failures),
                              ("retrying", status.deliveries.retries)):
            lines.extend(
                f"  {state} {f.key} ({f.kind} to {f.recipient}, {f.attempts} attempt(s)): {f.error}"
                for f in listed
            )
    return "\n".join([*lines, *_verdict(found, code)])


def status_json(status: Status, found: list[Problem], code: int) -> dict[str, Any]:
    """The same as JSON: times in ISO-8601, `exit_code` and `problems` as the exit status says."""
    return {
        "ok": not found,
        "exit_code": code,
        "problems": [{"code": int(p.attention), "text": p.text} for p in found],
        "checked_at": _iso(status.checked_at),
        "database": asdict(status.database),
        "slack": asdict(status.slack),
        "leader": asdict(status.leader) if status.leader is not None else None,
        "leader_known": status.leader_known,
        "jobs": [
            {"name": job.name, "last_started": _iso(job.last_started),
             "last_finished": _iso(job.last_finished), "result": job.result,
             "summary": job.summary, "trigger": job.trigger, "next_run": _iso(job.next_run)}
            for job in status.jobs
        ],
        "deliveries": asdict(status.deliveries) if status.deliveries is not None else None,
    }


def _deliveries_table(title: str, listed: tuple[FailedDelivery, ...]) -> Table:
    table = Table(title=title)
    for column in ("Key", "Kind", "To", "Attempts", "Last error"):
        table.add_column(column)
    for f in listed:
        table.add_row(Text(f.key), f.kind, f.recipient, str(f.attempts), Text(f.error or ""))
    return table


def status_rich(status: Status, found: list[Problem], code: int) -> RenderableType:
    """Tables for a person at a terminal: the system, the jobs, the failures, the verdict."""
    system = Table(title=f"collectbot status at {_when(status.checked_at)}", show_header=False)
    system.add_column(style="bold")
    system.add_column()
    for name, line in (("Database", _database_line(status)), ("Slack", _slack_line(status)),
                       ("Leader", _leader_line(status)),
                       ("Deliveries", _deliveries_line(status))):
        system.add_row(name, Text(line))
    jobs = Table(title="Jobs")
    for column in ("Job", "Last run", "Result", "By", "Summary", "Next run"):
        jobs.add_column(column)
    for job in status.jobs:
        style = "red" if job.result in ("failed", "error") else ""
        jobs.add_row(job.name, _when(job.last_started), Text(job.result or "never", style=style),
                     job.trigger or "", Text(job.summary or ""), _when(job.next_run))
    parts: list[RenderableType] = [system, jobs]
    if status.deliveries is not None:
        for title, listed in (("Failed deliveries", status.deliveries.failures),
                              ("Deliveries waiting to retry", status.deliveries.retries)):
            if listed:
                parts.append(_deliveries_table(title, listed))
    verdict = _verdict(found, code)
    parts.append(Text("\n".join(verdict), style="bold green" if not found else "bold red"))
    return Group(*parts)
