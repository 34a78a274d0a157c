"""Submitted escalation forms (Reassign, Snooze, Resolve): field errors in the ack; a valid
one decided after it, then what shows it refreshed."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App

from bot.services.escalation_clicks import FormDecision, decide_now, read_decision_form
from bot.views.escalation_actions import FORM_DECISIONS
from handlers.context import HandlerContext
from handlers.replies import user_id_of
from handlers.views.submissions import acknowledge, save_and_tell, state_values_of

ESCALATION_CALLBACK = re.compile("^(" + "|".join(sorted(FORM_DECISIONS)) + ")$")


def register(app: App, context: HandlerContext) -> None:
    @app.view_submission(ESCALATION_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        from handlers.commands.collect import escalations_answer

        user_id = user_id_of(body)
        now = context.now()
        what = f"escalation form {view.get('id')}"

        def decide_later(form: FormDecision) -> None:
            context.defer(lambda: save_and_tell(context, body, what=what, save=lambda: (
                decide_now(context.database, context.gateway, user_id=user_id,
                           request=form.request, origin=form.origin, now=now,
                           default_tz=context.default_tz, reply=escalations_answer(context)))))

        acknowledge(context, ack, body, what=what, then=decide_later,
                    read=lambda: read_decision_form(
                        context.database, callback_id=str(view.get("callback_id")),
                        private_metadata=view.get("private_metadata"),
                        state_values=state_values_of(view)))
