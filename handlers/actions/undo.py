"""Undo: take back a row's outcome within its window."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.interactions import undo_row
from bot.views import actions
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)


def register(app: App, context: HandlerContext) -> None:
    @app.action(actions.ACTION_UNDO)
    def undo_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = user_id_of(body)
        try:
            undo = actions.decode_undo(action.get("value"))
        except ValueError as exc:
            logger.warning("undo by %s refused: %s", user_id, exc)
            tell_later(context, body, "That Undo button is not valid any more.")
            return
        context.defer(lambda: _undo(context, body, user_id, undo))


def _undo(
    context: HandlerContext, body: dict[str, Any], user_id: str, undo: actions.UndoRef
) -> None:
    try:
        undo_row(
            context.database,
            context.gateway,
            user_id=user_id,
            undo=undo,
            now=context.now(),
            default_tz=context.default_tz,
        )
    except ServiceError as exc:
        tell(context, body, exc.message)
    except Exception:
        logger.exception("undo of attempt %s by %s failed", undo.attempt_id, user_id)
        tell(context, body, SOMETHING_WRONG)
