"""Demo step 6: the hourly escalation job, the manager's message, one decision (Send to agency,
clicked over signed HTTP) taking effect on the collector's next list, and what nobody decides
going up: a reminder in the message's thread, then the manager's own manager."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, TextIO
from zoneinfo import ZoneInfo

from sqlalchemy import select

from bot.db.models import CallList, CallListEntry, Customer, Escalation, TeamMember
from bot.demo.clicks import DemoClock
from bot.demo.morning import DEMO_SIGNING_SECRET, DemoSlack
from bot.demo.steps import DemoResult, write_banner
from bot.domain.calendar import holiday_calendar, next_working_day
from bot.sandbox.sender import SlackSender
from bot.services.morning import run_call_lists
from bot.views import escalation_actions as views
from bot.views.terminal import blocks_to_text, mrkdwn_rich
from bot.web import build_http_app
from scheduler.jobs import JobContext, run_job

LINES_SHOWN = 14


def _buttons(message: dict[str, Any]) -> set[str]:
    return {str(e.get("value")) for b in message.get("blocks") or [] if b["type"] == "actions"
            for e in b["elements"]}


def _on_a_list(result: DemoResult, slack: DemoSlack, shown: set[str]
               ) -> tuple[int, str, str, str] | None:
    """An escalation the message shows whose account is on a list today: its id, the
    account's name and reference, the collector's Slack id."""
    with result.database.uow() as uow:
        row = uow.session.execute(
            select(Escalation.id, Customer.name, Customer.external_ref, TeamMember.slack_user_id)
            .join(Customer, Customer.id == Escalation.customer_id)
            .join(CallListEntry, CallListEntry.customer_id == Customer.id)
            .join(CallList, CallList.id == CallListEntry.call_list_id)
            .join(TeamMember, TeamMember.id == CallList.collector_id)
            .where(CallList.list_date == slack.list_date,
                   Escalation.id.in_(sorted(int(v) for v in shown if v.isdigit())))
            .order_by(Escalation.id)).first()
    return None if row is None else (int(row[0]), str(row[1]), str(row[2]), str(row[3]))


def step_escalations(result: DemoResult, slack: DemoSlack, out: TextIO) -> None:
    """Run the job at 10:30 in New York, print the manager's message, click Send to agency on
    an account from a list, and show that the next morning's list goes without it."""
    zone = ZoneInfo("America/New_York")
    now = datetime.combine(slack.list_date, time(10, 30), zone)
    write_banner(out, "6. Escalations to the manager")
    context = JobContext(result.database, slack.gateway, slack.settings)
    job = run_job("escalations", context, now)
    out.write(f"$ collectbot job escalations --now {now.isoformat()}\n{job.summary}\n\n")
    with result.database.uow() as uow:
        manager = uow.session.scalars(select(TeamMember).where(
            TeamMember.slack_user_id.in_(sorted({e for e, in uow.session.execute(
                select(Escalation.recipient).where(Escalation.recipient.is_not(None)))})))
        ).first()
        names = dict(uow.session.execute(
            select(TeamMember.slack_user_id, TeamMember.name)).tuples().all())
    messages = slack.sandbox.dms(manager.slack_user_id) if manager is not None else []
    if manager is None or not messages:
        out.write("No escalation reached a manager in her working hours.\n")
        return
    message = messages[0]
    text = blocks_to_text(message.get("blocks") or [], names).splitlines()
    out.write(f"── DM to {manager.name} ({manager.slack_user_id}) ──\n\n"
              + "\n".join(text[:LINES_SHOWN]) + ("\n…\n\n" if len(text) > LINES_SHOWN else "\n\n"))
    chosen = _on_a_list(result, slack, _buttons(message))
    if chosen is not None:
        _decide(result, slack, out, manager, message, chosen, now)
    _levels(result, slack, out, manager, names, since=now)


def _decide(  # noqa: PLR0913, PLR0917 (the step's parts)
    result: DemoResult, slack: DemoSlack, out: TextIO, manager: TeamMember,
    message: dict[str, Any], chosen: tuple[int, str, str, str], now: datetime,
) -> None:
    escalation_id, name, ref, collector = chosen
    clock = DemoClock(now + timedelta(minutes=5))
    running = build_http_app(slack.settings, result.database, slack.gateway, host="127.0.0.1",
                             port=0, clock=clock)
    running.server.start()
    try:
        sender = SlackSender(running.url, slack.sandbox, DEMO_SIGNING_SECRET)
        reply = sender.click(manager.slack_user_id, views.ACTION_ESC_AGENCY, str(escalation_id),
                             message=message,
                             channel=slack.sandbox.dm_channel(manager.slack_user_id) or "")
        running.wait_idle()
    finally:
        running.stop()
    out.write(f"{clock.now:%H:%M}  {manager.name} clicks [Send to agency] on {name} ({ref}) and "
              f"confirms: HTTP {reply.status}\n")
    for ephemeral in slack.sandbox.ephemerals(manager.slack_user_id)[-1:]:
        out.write(f"       Slack shows her: {mrkdwn_rich(ephemeral['text']).plain}\n")
    for dm in slack.sandbox.dms(collector)[-1:]:
        out.write(f"       DM to the collector: {mrkdwn_rich(dm['text']).plain}\n")
    _next_list(result, slack, out, collector=collector, account=f"{name} ({ref})", ref=ref)


def _next_list(result: DemoResult, slack: DemoSlack, out: TextIO, *, collector: str,
               account: str, ref: str) -> None:
    holidays = holiday_calendar(slack.settings.country,
                                range(slack.list_date.year, slack.list_date.year + 2))
    day = next_working_day(slack.list_date, frozenset(range(1, 6)), holidays)
    morning = datetime.combine(day, time(8, 35), ZoneInfo("America/New_York"))
    run_call_lists(result.database, slack.gateway, slack.settings, now=morning)
    with result.database.uow() as uow:
        member = uow.session.scalars(
            select(TeamMember).where(TeamMember.slack_user_id == collector)).one()
        listed = list(uow.session.scalars(
            select(Customer.external_ref).join(CallListEntry).join(CallList)
            .where(CallList.collector_id == member.id, CallList.list_date == day)))
    verdict = "is not on it" if ref not in listed else "is still on it"
    out.write(f"\nThe next morning ({day:%A %d %B}) {member.name}'s list has "
              f"{len(listed)} accounts; {account} {verdict}: it is with the agency.\n")


def _levels(result: DemoResult, slack: DemoSlack, out: TextIO, manager: TeamMember,
            names: dict[str, str], *, since: datetime) -> None:
    """The hourly job on the next working days at 10:30: Maya decides nothing more, so her
    message gets one reminder in its thread, then what is in it goes up to her manager."""
    with result.database.uow() as uow:
        above = uow.session.get(TeamMember, manager.manager_id) if manager.manager_id else None
        uow.session.expunge_all()
    context = JobContext(result.database, slack.gateway, slack.settings)
    holidays = holiday_calendar(slack.settings.country, range(since.year, since.year + 2))
    remind = slack.settings.escalation_remind_days
    out.write(f"\nNobody decides the rest: a reminder in each message's thread after {remind} "
              "working days, then up a level.\n")
    day = since.date()
    for _ in range(2 * remind):
        day = next_working_day(day, frozenset(range(1, 6)), holidays)
        at = f"{day:%a %d %b} {since:%H:%M}"
        replies = len(_replies(slack, manager))
        raised = len(slack.sandbox.dms(above.slack_user_id)) if above is not None else 0
        run_job("escalations", context, datetime.combine(day, since.time(), since.tzinfo))
        for reply in _replies(slack, manager)[replies:]:
            out.write(f"{at}  in the thread of {manager.name}'s message: "
                      f"{_lines(reply, names)[0]}\n")
        if above is not None and len(slack.sandbox.dms(above.slack_user_id)) > raised:
            dm = slack.sandbox.dms(above.slack_user_id)[raised]
            text = _lines(dm, names)
            out.write(f"{at}  up a level, DM to {above.name} ({above.slack_user_id}):\n\n"
                      + "\n".join(text[:LINES_SHOWN])
                      + ("\n…\n" if len(text) > LINES_SHOWN else "\n"))
            top = next((m for m in slack.sandbox.dms(manager.slack_user_id)
                        if not m.get("thread_ts")), None)
            went = [line.strip() for line in _lines(top, names) if "Went up" in line][:1]
            out.write("".join(f"\n{manager.name}'s message now says: {line}\n" for line in went))
            return


def _replies(slack: DemoSlack, manager: TeamMember) -> list[dict[str, Any]]:
    return [m for m in slack.sandbox.dms(manager.slack_user_id) if m.get("thread_ts")]


def _lines(message: dict[str, Any] | None, names: dict[str, str]) -> list[str]:
    if message is None:
        return [""]
    return blocks_to_text(message.get("blocks") or [], names).splitlines() or [message["text"]]
