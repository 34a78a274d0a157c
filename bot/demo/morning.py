"""Demo step 3: the morning lists, sent by the real job through the real client to the sandbox."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import TextIO
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from sqlalchemy import select

from bot.db.models import TeamMember
from bot.demo.steps import DEMO_TOKEN, DemoResult, write_banner
from bot.domain.calendar import holiday_calendar, is_working_day, next_working_day
from bot.domain.vocabulary import Role
from bot.sandbox.web_api import SlackSandbox
from bot.services.morning import run_call_lists
from bot.settings import Settings, load_settings
from bot.slack.client import SlackGateway
from bot.views.terminal import blocks_to_text

DEMO_SIGNING_SECRET = "demo-signing-secret"


@dataclass
class DemoSlack:
    """The sandbox standing in for Slack, and the settings and gateway pointed at it."""

    sandbox: SlackSandbox
    settings: Settings
    gateway: SlackGateway
    list_date: date


def demo_slack(result: DemoResult, sandbox: SlackSandbox) -> DemoSlack:
    """Seed the sandbox with the demo team and point settings and a gateway at it."""
    settings = load_settings(
        DATABASE_URL=result.settings.database_url, SLACK_BOT_TOKEN=DEMO_TOKEN,
        SLACK_SIGNING_SECRET=DEMO_SIGNING_SECRET, SLACK_API_URL=sandbox.url,
        COLLECTBOT_TIMEZONE="America/New_York", COLLECTBOT_COUNTRY="US",
    )
    with result.database.uow() as uow:
        for member in uow.session.scalars(select(TeamMember)):
            sandbox.add_user(member.slack_user_id, name=member.name,
                             tz=member.timezone or "America/New_York")
    holidays = holiday_calendar(settings.country, range(result.today.year, result.today.year + 2))
    weekdays = frozenset(range(1, 6))
    day = result.today
    if not is_working_day(day, weekdays, holidays):
        day = next_working_day(day, weekdays, holidays)
    return DemoSlack(sandbox, settings, SlackGateway(SecretStr(DEMO_TOKEN), sandbox.url), day)


def step_morning(result: DemoResult, slack: DemoSlack, out: TextIO) -> None:
    """Run the call-lists job at each collector's own morning and print every DM as it reads."""
    write_banner(out, f"3. Morning call lists ({slack.list_date:%A %d %B %Y})")
    with result.database.uow() as uow:
        collectors = list(uow.session.scalars(
            select(TeamMember).where(TeamMember.role == Role.COLLECTOR).order_by(TeamMember.name)
        ))
    # One run per morning: collectors who share a zone and a morning time get theirs together.
    mornings: dict[datetime, list[TeamMember]] = {}
    for member in collectors:
        zone = ZoneInfo(member.timezone or slack.settings.timezone)
        morning = member.morning_time or slack.settings.morning_time
        local = datetime.combine(slack.list_date, time(morning.hour, morning.minute + 5), zone)
        mornings.setdefault(local, []).append(member)
    for local, members in sorted(mornings.items()):
        report = run_call_lists(result.database, slack.gateway, slack.settings, now=local)
        for member in members:
            outcome = report.outcomes.get(member.slack_user_id, "nothing")
            out.write(f"── DM to {member.name} ({member.slack_user_id}) at {local:%H:%M} "
                      f"{local.tzinfo}: {outcome} ──\n\n")
            for message in slack.sandbox.dms(member.slack_user_id):
                out.write(blocks_to_text(message.get("blocks") or []) + "\n\n")
    again = run_call_lists(result.database, slack.gateway, slack.settings,
                           now=datetime.combine(slack.list_date, time(11, 0),
                                                ZoneInfo("America/Los_Angeles")))
    out.write(f"The job run again later that morning: {again.summary()}"
              f" ({len(slack.sandbox.calls_to('chat.postMessage'))} messages posted in all).\n")
