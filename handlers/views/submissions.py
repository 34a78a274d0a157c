"""Submitted modals: field errors come back in the ack; a valid one is saved once per view id."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.interactions import Submission, read_submission, save_submission
from bot.views import actions
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)

Parsed = TypeVar("Parsed")

MODAL_CALLBACK = re.compile("^(" + "|".join(sorted(actions.MODAL_CALLBACK_IDS)) + ")$")


def state_values_of(view: Mapping[str, Any]) -> Mapping[str, Any]:
    """A submitted view's state values ({} when absent or malformed)."""
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    return values if isinstance(values, Mapping) else {}


def acknowledge(
    context: HandlerContext,
    ack: Ack,
    body: Mapping[str, Any],
    *,
    what: str,
    read: Callable[[], Parsed | dict[str, str]],
    then: Callable[[Parsed], None],
) -> None:
    """Read a submission before the ack (Slack shows field errors only from the ack): field
    errors go back in it; a refusal or a failure is told after it; a valid one goes to `then`."""
    user_id = user_id_of(body)
    try:
        parsed = read()
    except ServiceError as exc:
        ack()
        tell_later(context, body, exc.message)
        return
    except Exception:
        ack()
        logger.exception("%s by %s could not be read", what, user_id)
        tell_later(context, body, SOMETHING_WRONG)
        return
    if isinstance(parsed, dict):
        ack(response_action="errors", errors=parsed)
        return
    ack()
    then(parsed)


def save_and_tell(
    context: HandlerContext, body: Mapping[str, Any], *, what: str, save: Callable[[], str]
) -> None:
    """Deferred work of a submission: save it, then tell the user the confirmation or why not."""
    try:
        confirmation = save()
    except ServiceError as exc:
        tell(context, body, exc.message)
        return
    except Exception:
        logger.exception("%s by %s failed", what, user_id_of(body))
        tell(context, body, SOMETHING_WRONG)
        return
    tell(context, body, confirmation)


def register(app: App, context: HandlerContext) -> None:
    @app.view_submission(MODAL_CALLBACK)
    def submitted(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        user_id = user_id_of(body)
        view_id = str(view.get("id") or "")
        now = context.now()
        what = f"modal {view_id}"

        def save_later(submission: Submission) -> None:
            if not view_id:
                tell_later(context, body, SOMETHING_WRONG)
                return
            context.defer(lambda: save_and_tell(context, body, what=what, save=lambda: (
                save_submission(context.database, context.gateway, submission,
                                user_id=user_id, view_id=view_id, now=now,
                                default_tz=context.default_tz))))

        acknowledge(context, ack, body, what=what, then=save_later, read=lambda: read_submission(
            context.database, user_id=user_id, callback_id=str(view.get("callback_id")),
            private_metadata=view.get("private_metadata"), state_values=state_values_of(view),
            now=now, default_tz=context.default_tz))
