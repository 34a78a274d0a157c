"""One-click outcome buttons (reached, voicemail, no answer, paid): one attempt per list row."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.domain.vocabulary import Outcome
from bot.services.errors import ServiceError
from bot.services.interactions import record_row_outcome
from bot.views import actions
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)

OUTCOME_BUTTON = re.compile(r"^outcome:[a-z_]+$")


def register(app: App, context: HandlerContext) -> None:
    @app.action(OUTCOME_BUTTON)
    def outcome_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = user_id_of(body)
        try:
            outcome = actions.outcome_for_action(str(action.get("action_id")))
            row = actions.decode_row(action.get("value"))
        except ValueError as exc:
            logger.warning("outcome click by %s refused: %s", user_id, exc)
            tell_later(context, body, "That button is not valid any more; open today's list again.")
            return
        context.defer(lambda: _record(context, body, user_id, row, outcome))


def _record(
    context: HandlerContext,
    body: dict[str, Any],
    user_id: str,
    row: actions.RowRef,
    outcome: Outcome,
) -> None:
    try:
        recorded = record_row_outcome(
            context.database,
            context.gateway,
            user_id=user_id,
            row=row,
            outcome=outcome,
            now=context.now(),
            default_tz=context.default_tz,
        )
    except ServiceError as exc:
        tell(context, body, exc.message)
        return
    except Exception:
        logger.exception(
            "outcome %s on list %s customer %s by %s failed",
            outcome.value, row.call_list_id, row.customer_id, user_id,
        )
        tell(context, body, SOMETHING_WRONG)
        return
    if recorded.notice is not None:
        tell(context, body, recorded.notice)
