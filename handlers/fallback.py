"""Whatever no listener claims (a stale button, a retired modal, an unknown event): acked, logged.

Registered last, so it only sees requests every other listener passed over. Answering 404 would
show the user an error and make Slack retry; a stale click deserves neither.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App

from bot.request_guard import loggable

logger = logging.getLogger(__name__)

ANY = re.compile(r"(?s).*")


def _who(body: dict[str, Any]) -> str:
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
    return loggable(user_id, 40)


def register(app: App) -> None:
    @app.action(ANY)
    def unknown_action(ack: Ack, body: dict[str, Any], action: dict[str, Any]) -> None:
        ack()
        logger.info("unknown action %s by %s ignored",
                    loggable(action.get("action_id") or action.get("callback_id"), 60),
                    _who(body))

    @app.view(ANY)
    def unknown_view(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        ack()
        logger.info("unknown view %s by %s ignored", loggable(view.get("callback_id"), 60),
                    _who(body))

    @app.view_closed(ANY)
    def view_closed(ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        # Only sent for modals opened with notify_on_close, which the app never asks for.
        ack()
        logger.info("view %s closed by %s ignored", loggable(view.get("callback_id"), 60),
                    _who(body))

    @app.options(ANY)
    def unknown_options(ack: Ack, body: dict[str, Any]) -> None:
        ack(options=[])
        logger.info("options for unknown %s by %s ignored",
                    loggable(body.get("action_id") or body.get("callback_id"), 60), _who(body))

    @app.shortcut(ANY)
    def unknown_shortcut(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        logger.info("unknown shortcut %s by %s ignored", loggable(body.get("callback_id"), 60),
                    _who(body))

    @app.command(ANY)
    def unknown_command(ack: Ack, body: dict[str, Any]) -> None:
        ack()
        logger.info("unknown command %s by %s ignored", loggable(body.get("command"), 40),
                    _who(body))

    @app.event(ANY)
    def unknown_event(body: dict[str, Any], event: dict[str, Any]) -> None:
        logger.info("event %s ignored", loggable(event.get("type"), 60))
