"""`/collect ...`: ack at once, run the subcommand, answer ephemerally through response_url."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, Respond

from bot.collect_command import run_collect
from handlers.context import HandlerContext
from handlers.replies import SOMETHING_WRONG

logger = logging.getLogger(__name__)

COMMAND = "/collect"


def register(app: App, context: HandlerContext) -> None:
    @app.command(COMMAND)
    def collect(ack: Ack, command: dict[str, Any], respond: Respond) -> None:
        ack()
        context.defer(lambda: _run(context, command, respond))


def _run(context: HandlerContext, command: dict[str, Any], respond: Respond) -> None:
    user_id = str(command.get("user_id") or "")
    try:
        reply = run_collect(
            context.database,
            user_id=user_id,
            text=str(command.get("text") or ""),
            now=context.now(),
            default_tz=context.default_tz,
            gateway=context.gateway,
        )
    except Exception:
        logger.exception("/collect by %s failed", user_id)
        respond(text=SOMETHING_WRONG, response_type="ephemeral")
        return
    respond(text=reply.text, blocks=reply.blocks, response_type="ephemeral")
