"""A manager's decision buttons on an escalation (its message, the digest, the App Home and
`/collect escalations`): Take over, Send to agency and Approve legal decide; Reassign, Snooze
and Resolve open their form."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.escalation_clicks import decide_now, decision_form
from bot.services.escalation_decisions import DecisionRequest
from bot.slack.client import SlackError
from bot.views import escalation_actions as views
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)

DECISION_BUTTON = re.compile(
    "^(" + "|".join(re.escape(a) for a in sorted(views.DIRECT_ACTIONS)) + ")$")
FORM_BUTTON = re.compile(
    "^(" + "|".join(re.escape(a) for a in sorted(views.FORM_ACTIONS)) + ")$")
STALE = "That button is not valid any more; open the escalation again."


def _decide(context: HandlerContext, body: dict[str, Any], action_id: str,
            origin: views.DecisionOrigin) -> None:
    from handlers.commands.collect import escalations_answer

    user_id = user_id_of(body)
    request = DecisionRequest(origin.escalation_id, views.DIRECT_ACTIONS[action_id])
    try:
        text = decide_now(context.database, context.gateway, user_id=user_id, request=request,
                          origin=origin, now=context.now(), default_tz=context.default_tz,
                          reply=escalations_answer(context))
    except ServiceError as exc:
        text = exc.message
    except Exception:
        logger.exception("decision %s on escalation %s by %s failed", action_id,
                         origin.escalation_id, user_id)
        text = SOMETHING_WRONG
    tell(context, body, text)


def _open_form(context: HandlerContext, body: dict[str, Any], action_id: str,
               origin: views.DecisionOrigin) -> None:
    user_id = user_id_of(body)
    trigger_id = body.get("trigger_id")
    if not isinstance(trigger_id, str) or not trigger_id:
        tell(context, body, "Slack sent no trigger for a form; click again.")
        return
    try:
        view = decision_form(context.database, user_id=user_id, action_id=action_id,
                             origin=origin, now=context.now(), default_tz=context.default_tz)
        context.gateway.open_view(trigger_id, view)
    except ServiceError as exc:
        tell(context, body, exc.message)
    except SlackError as exc:
        logger.warning("views.open for %s failed: %s", user_id, exc.code)
        tell(context, body, "Slack did not open the form in time; click again.")
    except Exception:
        logger.exception("escalation form %s by %s failed", action_id, user_id)
        tell(context, body, SOMETHING_WRONG)


def _origin(body: dict[str, Any], action: dict[str, Any]) -> views.DecisionOrigin:
    return views.origin_of(body, views.decode_escalation(action.get("value")))


Work = Callable[[HandlerContext, dict[str, Any], str, views.DecisionOrigin], None]


def _click(context: HandlerContext, work: Work, *, urgent: bool) -> Callable[..., None]:
    """A listener that acks, parses the escalation the button names (a malformed one is told
    to click again), and defers `work` (to the urgent pool when a trigger_id must be used
    within Slack's 3 s)."""

    def clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        action_id = str(action.get("action_id"))
        try:
            origin = _origin(body, action)
        except ValueError as exc:
            logger.warning("escalation click %s by %s refused: %s", action_id,
                           user_id_of(body), exc)
            tell_later(context, body, STALE)
            return
        defer = context.defer_urgent if urgent else context.defer
        defer(lambda: work(context, body, action_id, origin))

    return clicked


def register(app: App, context: HandlerContext) -> None:
    app.action(DECISION_BUTTON)(_click(context, _decide, urgent=False))
    # Its own pool: the trigger_id dies 3 s after the click.
    app.action(FORM_BUTTON)(_click(context, _open_form, urgent=True))
