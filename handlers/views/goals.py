"""Submitted goals forms: field errors in the ack; a valid one saved after it, then refreshed."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.goals_forms import GoalsSubmission, read_goals_submission, save_goals_submission
from bot.services.metrics import MetricsConfig
from bot.views.goals_modals import CALLBACK_IDS
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of
from handlers.views.submissions import state_values_of

logger = logging.getLogger(__name__)

GOALS_CALLBACK = re.compile("^(" + "|".join(sorted(CALLBACK_IDS)) + ")$")


def register(app: App, context: HandlerContext) -> None:
    @app.view_submission(GOALS_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_id_of(body)
        view_id = str(view.get("id") or "")
        now = context.now()
        config = MetricsConfig.from_settings(context.settings)
        # Checked before the ack on purpose: Slack shows field errors only from the ack.
        try:
            parsed = read_goals_submission(
                context.database, user_id=user_id, callback_id=str(view.get("callback_id")),
                private_metadata=view.get("private_metadata"),
                state_values=state_values_of(view), now=now, config=config)
        except ServiceError as exc:
            ack()
            tell_later(context, body, exc.message)
            return
        except Exception:
            ack()
            logger.exception("goals form %s by %s could not be read", view_id, user_id)
            tell_later(context, body, SOMETHING_WRONG)
            return
        if isinstance(parsed, dict):
            ack(response_action="errors", errors=parsed)
            return
        ack()
        context.defer(lambda: _save(context, body, parsed, user_id=user_id, view_id=view_id,
                                    now=now, config=config))


def _save(context: HandlerContext, body: dict[str, Any], submission: GoalsSubmission, *,
          user_id: str, view_id: str, now: datetime, config: MetricsConfig) -> None:
    try:
        confirmation = save_goals_submission(
            context.database, context.gateway, submission, user_id=user_id, view_id=view_id,
            now=now, config=config, default_tz=context.default_tz)
    except ServiceError as exc:
        tell(context, body, exc.message)
        return
    except Exception:
        logger.exception("goals form %s by %s failed", view_id, user_id)
        tell(context, body, SOMETHING_WRONG)
        return
    tell(context, body, confirmation)
