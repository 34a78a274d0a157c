"""Submitted modals: field errors come back in the ack; a valid one is saved once per view id."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.interactions import Submission, read_submission, save_submission
from bot.views import actions
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)

MODAL_CALLBACK = re.compile("^(" + "|".join(sorted(actions.MODAL_CALLBACK_IDS)) + ")$")


def state_values_of(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """A submitted view's state values ({} when absent or malformed)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def register(app: App, context: HandlerContext) -> None:
    @app.view_submission(MODAL_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_id_of(body)
        view_id = str(view.get("id") or "")
        now = context.now()
        # Validation runs before the ack on purpose: Slack shows field errors only from the ack.
        try:
            parsed = read_submission(
                context.database,
                user_id=user_id,
                callback_id=str(view.get("callback_id")),
                private_metadata=view.get("private_metadata"),
                state_values=state_values_of(view),
                now=now,
                default_tz=context.default_tz,
            )
        except ServiceError as exc:
            ack()
            tell_later(context, body, exc.message)
            return
        except Exception:
            ack()
            logger.exception("modal %s by %s could not be read", view_id, user_id)
            tell_later(context, body, SOMETHING_WRONG)
            return
        if isinstance(parsed, dict):
            ack(response_action="errors", errors=parsed)
            return
        ack()
        if not view_id:
            tell_later(context, body, SOMETHING_WRONG)
            return
        context.defer(
            lambda: _save(
                context, body, submission=parsed, user_id=user_id, view_id=view_id, now=now
            )
        )


def _save(
    context: HandlerContext,
    body: dict[str, Any],
    *,
    submission: Submission,
    user_id: str,
    view_id: str,
    now: datetime,
) -> None:
    try:
        confirmation = save_submission(
            context.database,
            context.gateway,
            submission,
            user_id=user_id,
            view_id=view_id,
            now=now,
            default_tz=context.default_tz,
        )
    except ServiceError as exc:
        tell(context, body, exc.message)
        return
    except Exception:
        logger.exception("modal %s by %s failed", view_id, user_id)
        tell(context, body, SOMETHING_WRONG)
        return
    tell(context, body, confirmation)
