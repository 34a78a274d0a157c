"""Submitted goals forms: field errors in the ack; a valid one saved after it, then refreshed."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.services.goals_forms import GoalsSubmission, read_goals_submission, save_goals_submission
from bot.services.metrics import MetricsConfig
from bot.views.goals_modals import CALLBACK_IDS
from handlers.context import HandlerContext
from handlers.replies import user_id_of
from handlers.views.submissions import acknowledge, save_and_tell, state_values_of

GOALS_CALLBACK = re.compile("^(" + "|".join(sorted(CALLBACK_IDS)) + ")$")


def register(app: App, context: HandlerContext) -> None:
    @app.view_submission(GOALS_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_id_of(body)
        view_id = str(view.get("id") or "")
        now = context.now()
        config = MetricsConfig.from_settings(context.settings)
        what = f"goals form {view_id}"

        def save_later(submission: GoalsSubmission) -> None:
            context.defer(lambda: save_and_tell(context, body, what=what, save=lambda: (
                save_goals_submission(context.database, context.gateway, submission,
                                      user_id=user_id, view_id=view_id, now=now, config=config,
                                      default_tz=context.default_tz))))

        acknowledge(context, ack, body, what=what, then=save_later,
                    read=lambda: read_goals_submission(
                        context.database, user_id=user_id,
                        callback_id=str(view.get("callback_id")),
                        private_metadata=view.get("private_metadata"),
                        state_values=state_values_of(view), now=now, config=config))
