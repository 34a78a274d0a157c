"""Buttons that open a modal (promise, dispute) and the row's overflow menu (details, snooze…)."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any

from slack_bolt import Ack, App

from bot.services.errors import ServiceError
from bot.services.interactions import account_details, modal_for
from bot.slack.client import SlackError
from bot.views import actions
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG, tell, tell_later, user_id_of

logger = logging.getLogger(__name__)

OPEN_BUTTON = re.compile(r"^open:[a-z_]+$")


def _metadata(body: Mapping[str, Any], row: actions.RowRef) -> actions.ModalMetadata:
    """The row, and the list message to update afterwards when the click came from one."""
    container = body.get("container")
    if isinstance(container, Mapping) and container.get("type") == "message":
        channel_id = container.get("channel_id")
        message_ts = container.get("message_ts")
        try:
            return actions.ModalMetadata(
                row,
                channel_id if isinstance(channel_id, str) else None,
                message_ts if isinstance(message_ts, str) else None,
            )
        except ValueError:
            logger.warning("click container with a malformed channel or ts; modal without them")
    return actions.ModalMetadata(row)


def _open_form(
    context: HandlerContext, body: dict[str, Any], kind: str, row: actions.RowRef
) -> None:
    # Its own pool, not behind recording work: the trigger_id dies 3 s after the click.
    context.defer_urgent(lambda: _open_now(context, body, kind, row))


def _open_now(
    context: HandlerContext, body: dict[str, Any], kind: str, row: actions.RowRef
) -> None:
    user_id = user_id_of(body)
    trigger_id = body.get("trigger_id")
    if not isinstance(trigger_id, str) or not trigger_id:
        tell(context, body, "Slack sent no trigger for a form; click again.")
        return
    try:
        view = modal_for(
            context.database,
            user_id=user_id,
            kind=kind,
            metadata=_metadata(body, row),
            now=context.now(),
            default_tz=context.default_tz,
        )
        context.gateway.open_view(trigger_id, view)
    except ServiceError as exc:
        tell(context, body, exc.message)
    except SlackError as exc:
        logger.warning("views.open for %s failed: %s", user_id, exc.code)
        tell(context, body, "Slack did not open the form in time; click again.")
    except Exception:
        logger.exception("form %s on customer %s by %s failed", kind, row.customer_id, user_id)
        tell(context, body, SOMETHING_WRONG)


def _show_details(
    context: HandlerContext, body: dict[str, Any], user_id: str, row: actions.RowRef
) -> None:
    try:
        text = account_details(
            context.database,
            user_id=user_id,
            row=row,
            now=context.now(),
            default_tz=context.default_tz,
        )
    except ServiceError as exc:
        text = exc.message
    except Exception:
        logger.exception("details of customer %s for %s failed", row.customer_id, user_id)
        text = SOMETHING_WRONG
    tell(context, body, text)


def register(app: App, context: HandlerContext) -> None:
    @app.action(OPEN_BUTTON)
    def open_clicked(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        try:
            kind = str(action.get("action_id"))
            if kind not in actions.MODAL_ACTIONS:
                raise ValueError(f"unknown form button {kind[:40]!r}")
            row = actions.decode_row(action.get("value"))
        except ValueError as exc:
            logger.warning("form click by %s refused: %s", user_id_of(body), exc)
            tell_later(context, body, "That button is not valid any more; open today's list again.")
            return
        _open_form(context, body, kind, row)

    @app.action(actions.ACTION_MORE)
    def more_chosen(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        user_id = user_id_of(body)
        selected = action.get("selected_option")
        try:
            choice, row = actions.decode_more(
                selected.get("value") if isinstance(selected, Mapping) else None
            )
        except ValueError as exc:
            logger.warning("overflow choice by %s refused: %s", user_id, exc)
            tell_later(context, body, "That menu is not valid any more; open today's list again.")
            return
        if choice != actions.MORE_DETAILS:
            _open_form(context, body, choice, row)
            return
        context.defer(lambda: _show_details(context, body, user_id, row))
