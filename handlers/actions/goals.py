"""The manager's buttons on `/collect goals`: each opens its form (managers and admins only)."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.goals_forms import goals_form
from bot.services.metrics import MetricsConfig
from bot.slack.client import SlackError
from bot.views import goals
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, user_id_of

logger = logging.getLogger(__name__)

GOALS_BUTTON = re.compile("^(" + "|".join(sorted(
    {goals.ADD_OBJECTIVE, goals.EDIT_OBJECTIVE, goals.EDIT_GOALS, goals.EDIT_CALL_TARGETS}))
    + ")$")
NEEDS_OBJECTIVE = frozenset({goals.EDIT_OBJECTIVE, goals.EDIT_GOALS})


def _objective_id(action_id: str, value: object) -> int | None:
    """The objective an edit button names; ValueError when it names none."""
    if action_id not in NEEDS_OBJECTIVE:
        return None
    if not isinstance(value, str) or not value.isdigit() or len(value) > 12:
        raise ValueError("button without an objective id")
    return int(value)


def _open_now(context: HandlerContext, body: dict[str, Any], action: dict[str, Any]) -> None:
    user_id = user_id_of(body)
    action_id = str(action.get("action_id"))
    trigger_id = body.get("trigger_id")
    response_url = body.get("response_url")
    try:
        objective_id = _objective_id(action_id, action.get("value"))
        if not isinstance(trigger_id, str) or not trigger_id:
            tell(context, body, "Slack sent no trigger for a form; click again.")
            return
        view = goals_form(
            context.database, user_id=user_id, action_id=action_id, objective_id=objective_id,
            response_url=response_url if isinstance(response_url, str) else None,
            now=context.now(), config=MetricsConfig.from_settings(context.settings))
        context.gateway.open_view(trigger_id, view)
    except ValueError as exc:
        logger.warning("goals button by %s refused: %s", user_id, exc)
        tell(context, body, "That button is not valid any more; run `/collect goals` again.")
    except ServiceError as exc:
        tell(context, body, exc.message)
    except SlackError as exc:
        logger.warning("views.open for %s failed: %s", user_id, exc.code)
        tell(context, body, "Slack did not open the form in time; click again.")
    except Exception:
        logger.exception("goals form %s by %s failed", action_id, user_id)
        tell(context, body, SOMETHING_WRONG)


def register(app: App, context: HandlerContext) -> None:
    @app.action(GOALS_BUTTON)
    def goals_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        # Its own pool: the trigger_id dies 3 s after the click.
        context.defer_urgent(lambda: _open_now(context, body, action))
