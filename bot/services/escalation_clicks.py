"""What a manager's decision button or form does: one unit of work, committed, then Slack.

The listeners in handlers/ acknowledge Slack first and then call one function here. After the
commit: the one refresh (the manager's message in place, the call lists, the App Homes), the
collectors' DMs through the outbox (each once per decision), and the ephemeral
`/collect escalations` answer the click came from, re-rendered by its response_url.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.db import Database
from bot.db.models import Customer
from bot.domain.calendar import local_date
from bot.domain.escalation_decisions import Decision
from bot.services import roster
from bot.services.deliveries import OutgoingMessage, deliver
from bot.services.errors import InvalidInput, ServiceError
from bot.services.escalation_decisions import (
    Decided,
    DecisionRequest,
    check_reassign,
    decide,
    escalation_for_decision,
    require_may_decide,
    require_undecided,
)
from bot.services.refresh import refresh_after_change
from bot.slack.client import SlackError, SlackGateway
from bot.views import escalation_actions as views
from bot.views.escalation_actions import DecisionInput, DecisionOrigin
from bot.views.text import Message

logger = logging.getLogger(__name__)

DM_KIND = "escalation-decision"
STALE_FORM = "That form is out of date; open the escalation again."

# Re-renders the `/collect escalations` answer a click came from, for the user who clicked.
ReplyRenderer = Callable[[Database, str, datetime], Message]


def decide_now(
    database: Database,
    gateway: SlackGateway,
    *,
    user_id: str,
    request: DecisionRequest,
    origin: DecisionOrigin,
    now: datetime,
    default_tz: str | ZoneInfo,
    reply: ReplyRenderer | None = None,
) -> str:
    """Decide once (committed), then update what shows it and tell the collectors; the line
    that confirms it to the manager. ServiceErrors (refused, already decided) change nothing."""
    with database.uow() as uow:
        decided = decide(uow, actor_slack_id=user_id, request=request, now=now,
                         default_tz=default_tz)
        uow.commit()
    refresh_after_change(database, gateway, now=now, default_tz=default_tz,
                         call_list_ids=decided.call_list_ids, customer_ids=[decided.customer_id],
                         homes=decided.homes, escalation_ids=[decided.escalation_id])
    _tell_collectors(database, gateway, decided, now=now)
    if origin.response_url and reply is not None:
        _replace_reply(database, gateway, origin.response_url, reply=reply, user_id=user_id,
                       now=now)
    return decided.confirmation


def _tell_collectors(database: Database, gateway: SlackGateway, decided: Decided, *,
                     now: datetime) -> None:
    for slack_id, text in decided.tell:
        result = deliver(database, gateway, key=f"{decided.key}:{slack_id}", kind=DM_KIND,
                         recipient=slack_id, messages=[OutgoingMessage(text)], now=now)
        if result.status == "failed":
            logger.warning("escalation %s: DM to %s failed: %s", decided.escalation_id,
                           slack_id, result.error)


def _replace_reply(database: Database, gateway: SlackGateway, url: str, *,
                   reply: ReplyRenderer, user_id: str, now: datetime) -> None:
    try:
        message = reply(database, user_id, now)
        gateway.respond(url, message.text, message.blocks, replace_original=True)
    except SlackError as exc:
        logger.warning("/collect escalations of %s not re-rendered: %s", user_id, exc.code)
    except Exception:
        logger.exception("/collect escalations of %s not re-rendered", user_id)


def decision_form(
    database: Database,
    *,
    user_id: str,
    action_id: str,
    origin: DecisionOrigin,
    now: datetime,
    default_tz: str | ZoneInfo,
) -> dict[str, Any]:
    """The form behind Reassign, Snooze or Resolve; refused before anything is typed when the
    user may not decide or someone already did."""
    callback_id = views.FORM_ACTIONS.get(action_id)
    if callback_id is None:
        raise InvalidInput("That button is not valid any more.")
    with database.uow(read_only=True) as uow:
        session = uow.session
        member = roster.member_for(session, user_id)
        zone = roster.member_zone(member, default_tz)
        escalation = escalation_for_decision(session, origin.escalation_id, lock=False)
        customer = session.get_one(Customer, escalation.customer_id)
        require_may_decide(session, member, customer, escalation)
        require_undecided(session, escalation, views.FORM_DECISIONS[callback_id], zone=zone,
                          today=local_date(now, zone))
        account = f"{customer.name} ({customer.external_ref})"
        collector = customer.collector.name if customer.collector else None
    if callback_id == views.CALLBACK_ESC_REASSIGN_MODAL:
        return views.reassign_modal(origin, account=account, collector=collector)
    if callback_id == views.CALLBACK_ESC_SNOOZE_MODAL:
        return views.snooze_modal(origin, account=account)
    return views.resolve_modal(origin, account=account)


@dataclass(frozen=True, slots=True)
class FormDecision:
    """A submitted form's valid decision and where it came from, ready after the ack."""

    request: DecisionRequest
    origin: DecisionOrigin


def read_decision_form(
    database: Database,
    *,
    callback_id: str,
    private_metadata: object,
    state_values: Mapping[str, Any],
) -> FormDecision | dict[str, str]:
    """A submitted form, parsed (reads only: before the ack, so field errors show in the form);
    a collector who cannot take the account is a field error."""
    if callback_id not in views.FORM_DECISIONS:
        raise InvalidInput(STALE_FORM)
    try:
        origin = views.decode_origin(private_metadata)
    except ValueError:
        raise InvalidInput(STALE_FORM) from None
    parsed = views.parse_decision_form(callback_id, state_values)
    if isinstance(parsed, dict):
        return parsed
    if parsed.decision is Decision.REASSIGN and parsed.collector_slack_id:
        with database.uow(read_only=True) as uow:
            try:
                check_reassign(uow.session, parsed.collector_slack_id, origin.escalation_id)
            except ServiceError as exc:
                return {views.COLLECTOR: _plain(exc.message)}
    return FormDecision(_request(origin.escalation_id, parsed), origin)


def _plain(text: str) -> str:
    # A field error is plain text: no mrkdwn bold, no <@U…> that would not render.
    return text.replace("*", "")


def _request(escalation_id: int, parsed: DecisionInput) -> DecisionRequest:
    return DecisionRequest(escalation_id, parsed.decision,
                           collector_slack_id=parsed.collector_slack_id, days=parsed.days,
                           text=parsed.text)
