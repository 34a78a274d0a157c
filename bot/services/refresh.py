"""The one refresh after a committed change: every list message and App Home that shows it.

Buttons, modals and `/collect` call `refresh_after_change` once their unit of work committed.
It re-renders from the database, so it can never show what was not saved.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import CallList, CallListEntry, Customer, Escalation, TeamMember
from bot.domain.vocabulary import EscalationStatus
from bot.services import roster
from bot.services.call_lists import refresh_call_list_messages, todays_call_list_for
from bot.services.escalation_delivery import update_escalation_messages
from bot.services.home import publish_home
from bot.services.metrics import MetricsConfig
from bot.services.objectives import goals_message
from bot.slack.client import SlackGateway
from bot.views.text import zone_named

logger = logging.getLogger(__name__)


def lists_showing(
    session: Session, customer_ids: Iterable[int], *, now: datetime, default_tz: str | ZoneInfo
) -> set[int]:
    """The lists of today (each collector's local today) that have one of these accounts."""
    found: set[int] = set()
    for customer_id in sorted(set(customer_ids)):
        customer = session.get(Customer, customer_id)
        collector = customer.collector if customer is not None else None
        if collector is None:
            continue
        call_list = todays_call_list_for(
            session, collector, now=now, tz=roster.member_zone(collector, default_tz)
        )
        if call_list is not None and session.scalar(
            select(CallListEntry.id).where(
                CallListEntry.call_list_id == call_list.id,
                CallListEntry.customer_id == customer_id,
            )
        ) is not None:
            found.add(call_list.id)
    return found


def _escalations_showing(session: Session, customer_ids: Iterable[int]) -> set[int]:
    """The open escalations of these accounts whose manager's message was sent (it shows
    the account's last attempts)."""
    wanted = sorted(set(customer_ids))
    if not wanted:
        return set()
    return set(session.scalars(select(Escalation.id).where(
        Escalation.customer_id.in_(wanted), Escalation.status == EscalationStatus.OPEN,
        Escalation.message_key.is_not(None))))


def _homes(session: Session, call_list_ids: set[int], actor_slack_id: str | None) -> set[str]:
    homes = set(
        session.scalars(
            select(TeamMember.slack_user_id)
            .join(CallList, CallList.collector_id == TeamMember.id)
            .where(CallList.id.in_(sorted(call_list_ids)))
        )
    )
    if actor_slack_id is not None:
        homes.add(actor_slack_id)  # their own progress moved
    return homes


@dataclass(frozen=True, slots=True)
class GoalsReply:
    """A `/collect goals` message shown to one person, re-rendered in place by its response_url."""

    slack_user_id: str
    response_url: str


def _managers(session: Session) -> set[str]:
    return set(session.scalars(select(TeamMember.slack_user_id).where(
        TeamMember.active.is_(True), TeamMember.role.in_(sorted(roster.MANAGING_ROLES)))))


def _refresh_goals(database: Database, gateway: SlackGateway, reply: GoalsReply, *,
                   now: datetime, metrics: MetricsConfig) -> None:
    with database.uow() as uow:
        message = goals_message(uow.session, reply.slack_user_id, now=now, config=metrics)
    gateway.respond(reply.response_url, message.text, message.blocks, replace_original=True)


def refresh_after_change(
    database: Database,
    gateway: SlackGateway,
    *,
    now: datetime,
    default_tz: str | ZoneInfo,
    call_list_ids: Iterable[int] = (),
    customer_ids: Iterable[int] = (),
    actor_slack_id: str | None = None,
    homes: Iterable[str] = (),
    objectives_changed: bool = False,
    metrics: MetricsConfig | None = None,
    goals_reply: GoalsReply | None = None,
    escalation_ids: Iterable[int] = (),
) -> None:
    """Re-render the lists (given, and today's lists having the accounts) and the App Homes
    of their collectors, of the actor and of `homes`; the managers' messages of the given
    escalations and of the accounts' open ones; after a change to the objectives or the
    call targets (`objectives_changed`), every manager's Home and the `/collect goals` message
    the change came from.

    Never raises: the change is saved, and telling the person "nothing was saved" because a
    view failed to refresh would be false; the next change or Home visit renders it again.
    """
    try:
        with database.uow(read_only=True) as uow:
            lists = set(call_list_ids) | lists_showing(
                uow.session, customer_ids, now=now, default_tz=default_tz
            )
            homes = _homes(uow.session, lists, actor_slack_id) | set(homes)
            if objectives_changed:
                homes |= _managers(uow.session)
            escalations = set(escalation_ids) | _escalations_showing(uow.session, customer_ids)
    except Exception:
        logger.exception("after a change: what to refresh could not be read")
        return
    for call_list_id in sorted(lists):
        try:
            refresh_call_list_messages(database, gateway, call_list_id, now=now)
        except Exception:
            logger.exception("call list %s: messages not refreshed after a change", call_list_id)
    for slack_id in sorted(homes):
        try:
            publish_home(database, gateway, slack_id, now=now, default_tz=default_tz,
                         after_change=True, metrics=metrics)
        except Exception:
            logger.exception("app home of %s not refreshed after a change", slack_id)
    try:
        update_escalation_messages(database, gateway, sorted(escalations), now=now,
                                   default_tz=default_tz)
    except Exception:
        logger.exception("escalation messages %s not refreshed after a change",
                         sorted(escalations))
    if goals_reply is not None:
        try:
            _refresh_goals(database, gateway, goals_reply, now=now,
                           metrics=metrics or MetricsConfig(zone=zone_named(str(default_tz))))
        except Exception:
            logger.exception("goals message of %s not refreshed after a change",
                             goals_reply.slack_user_id)
