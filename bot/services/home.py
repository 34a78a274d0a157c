"""App Home from the database: a collector's day or a manager's team, published via the gateway."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Customer, PromiseToPay, TeamMember
from bot.domain.calendar import local_date
from bot.domain.vocabulary import PromiseStatus
from bot.services import accounts, roster
from bot.services.call_lists import call_list_view, todays_call_list_for
from bot.services.errors import NOT_ON_ROSTER_MESSAGE, NotOnRoster
from bot.services.metrics import MetricsConfig
from bot.services.objectives import current_progress
from bot.services.recap_post import latest_recap
from bot.services.stats import collector_progress, team_progress
from bot.slack.client import SlackError, SlackGateway
from bot.views.goals import plan_section
from bot.views.home import (
    EscalationSummary,
    PromiseDue,
    collector_home,
    manager_home,
    progress_bar,
)
from bot.views.recap import recap_headline
from bot.views.text import inline, money, mrkdwn, plain, plural, short_date, zone_named

logger = logging.getLogger(__name__)

MAX_ESCALATIONS = 60


def _week(today: date) -> tuple[date, date]:
    monday = today - timedelta(days=today.weekday())
    return monday, monday + timedelta(days=6)


def promises_due_this_week(session: Session, member: TeamMember, today: date) -> list[PromiseDue]:
    """Open promises taken by the member that fall due Monday to Sunday of this week."""
    first, last = _week(today)
    rows = session.execute(
        select(PromiseToPay, Customer)
        .join(Customer, Customer.id == PromiseToPay.customer_id)
        .where(
            PromiseToPay.collector_id == member.id,
            PromiseToPay.status == PromiseStatus.OPEN,
            PromiseToPay.promised_date >= first,
            PromiseToPay.promised_date <= last,
        )
        .order_by(PromiseToPay.promised_date, PromiseToPay.id)
    ).all()
    return [
        PromiseDue(customer.name, customer.external_ref, promise.amount, promise.promised_date)
        for promise, customer in rows
    ]


def open_escalations(
    session: Session, member: TeamMember, today: date, zone: ZoneInfo
) -> list[EscalationSummary]:
    """The open escalations the member sees (roster.open_escalations_for), with balances; each
    opened on the member's local date (as `/collect escalations` shows it)."""
    summaries = []
    rows = session.execute(roster.open_escalations_for(member).limit(MAX_ESCALATIONS)).all()
    for escalation, customer, collector_name in rows:
        summary = accounts.account_summary(session, customer.id, today=today)
        summaries.append(
            EscalationSummary(
                escalation_id=escalation.id,
                customer_name=customer.name,
                external_ref=customer.external_ref,
                past_due=summary.past_due,
                days_past_due=summary.days_past_due,
                level=escalation.level,
                reason=escalation.reason,
                opened_on=local_date(escalation.created_at, zone),
                collector_name=collector_name,
                snoozed_until=escalation.snoozed_until
                if escalation.snoozed_until and escalation.snoozed_until > today else None,
            )
        )
    return summaries


def _not_on_roster_home() -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain("Collections")},
            {"type": "section", "text": mrkdwn(NOT_ON_ROSTER_MESSAGE)},
        ],
    }


def _no_list_home(
    today: date, *, done: int, target: int, promises: list[PromiseDue]
) -> dict[str, Any]:
    lines = [
        f"{short_date(p.promised_date)} · *{money(p.amount)}* · {inline(p.customer_name, 60)}"
        for p in promises[:15]
    ]
    return {
        "type": "home",
        "blocks": [
            {"type": "header", "text": plain(f"Today · {short_date(today)}")},
            {
                "type": "section",
                "text": mrkdwn(
                    f"*{done} of {plural(target, 'call')}*\n{progress_bar(done, target)}\n"
                    "No call list has been made for you today. It arrives in your DMs"
                    " on working mornings; `/collect list` shows it once it is there."
                ),
            },
            {"type": "divider"},
            {"type": "header", "text": plain("Promises due this week")},
            {
                "type": "section",
                "text": mrkdwn("\n".join(lines) if lines else "No promises fall due this week."),
            },
        ],
    }


def home_view(
    session: Session, slack_user_id: str, *, now: datetime, default_tz: str | ZoneInfo,
    metrics: MetricsConfig | None = None,
    permalink: Callable[[str, str], str | None] | None = None,
) -> dict[str, Any]:
    """The Home tab a Slack user should see now: collector, manager/admin, or not on the roster.
    `permalink(channel, ts)` links the manager's view to the latest weekly recap."""
    try:
        member = roster.member_for(session, slack_user_id)
    except NotOnRoster:
        return _not_on_roster_home()
    zone = roster.member_zone(member, default_tz)
    today = local_date(now, zone)
    if roster.is_manager(member):
        return manager_home(
            today=today,
            team=team_progress(session, member, now=now, default_tz=default_tz),
            escalations=open_escalations(session, member, today, zone),
            plan=plan_section(current_progress(
                session, now=now, measure=False, config=metrics or MetricsConfig(
                    zone=zone_named(str(default_tz))))),
            recap=_latest_recap(session, permalink),
        )
    progress = collector_progress(session, member, now=now, default_tz=default_tz)
    promises = promises_due_this_week(session, member, today)
    call_list = todays_call_list_for(session, member, now=now, tz=zone)
    if call_list is None:
        return _no_list_home(today, done=progress.done, target=progress.target, promises=promises)
    return collector_home(
        call_list_view(session, call_list.id, now=now),
        now=now,
        target=progress.target,
        calls_made=progress.done,
        promises_due=promises,
    )


def _latest_recap(session: Session, permalink: Callable[[str, str], str | None] | None
                  ) -> tuple[str, str | None] | None:
    latest = latest_recap(session)
    if latest is None:
        return None
    headline = recap_headline(latest.week_end - timedelta(days=6), latest.week_end)
    return headline, None if permalink is None else permalink(latest.channel, latest.ts)


def publish_home(
    database: Database,
    gateway: SlackGateway,
    slack_user_id: str,
    *,
    now: datetime,
    default_tz: str | ZoneInfo,
    after_change: bool = False,
    metrics: MetricsConfig | None = None,
) -> bool:
    """Render the user's Home from the database and views.publish it; False if Slack refused.

    After a change the render queues behind other writers (see refresh_call_list_messages);
    opening the Home only reads, and goes on while an import writes. `metrics`: the team's
    settings for the objectives' plan (default: the team zone's).
    """
    with database.uow(read_only=not after_change) as uow:
        view = home_view(uow.session, slack_user_id, now=now, default_tz=default_tz,
                         metrics=metrics,
                         permalink=lambda channel, ts: _permalink(gateway, channel, ts))
    try:
        gateway.publish_home(slack_user_id, view)
    except SlackError as exc:
        logger.warning("app home for %s not published: %s", slack_user_id, exc.code)
        return False
    return True


def _permalink(gateway: SlackGateway, channel: str, ts: str) -> str | None:
    try:
        return gateway.permalink(channel, ts)
    except SlackError as exc:
        logger.warning("recap permalink not available: %s", exc.code)
        return None
