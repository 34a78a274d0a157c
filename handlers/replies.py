"""Telling the person who clicked: ephemeral messages, never a stack trace."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from bot.slack.client import SlackError
from bot.views.replies import SOMETHING_WRONG
from handlers.context import HandlerContext

logger = logging.getLogger(__name__)

__all__ = ["SOMETHING_WRONG", "tell", "tell_later", "user_id_of"]


def user_id_of(body: Mapping[str, Any]) -> str:
    """The Slack user who sent an interaction payload."""
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, Mapping) else None
    if not isinstance(user_id, str) or not user_id:
        raise ValueError("interaction payload without a user id")
    return user_id


def tell(context: HandlerContext, body: Mapping[str, Any], text: str) -> None:
    """An ephemeral line to the user, where they clicked (a DM) or in the bot's DM (App Home)."""
    user_id = user_id_of(body)
    channel = body.get("channel")
    channel_id = channel.get("id") if isinstance(channel, Mapping) else None
    try:
        if not isinstance(channel_id, str) or not channel_id:
            channel_id = context.gateway.open_dm(user_id)
        context.gateway.post_ephemeral(channel_id, user_id, text)
    except SlackError as exc:
        logger.warning("ephemeral to %s not shown: %s", user_id, exc.code)


def tell_later(context: HandlerContext, body: Mapping[str, Any], text: str) -> None:
    """tell() after the ack, from the work pool: what a listener body uses, never tell().

    The app answers Slack only when the listener returns (process_before_response), so a
    listener calling Slack itself (conversations.open, chat.postEphemeral, their retries)
    keeps Slack waiting, and past 3 s Slack shows the user an error.
    """
    context.defer(lambda: tell(context, body, text))
