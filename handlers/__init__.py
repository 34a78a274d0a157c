"""Slack listeners, one folder per surface; register_handlers wires them all onto a Bolt app."""

from __future__ import annotations

from slack_bolt import App

from handlers import actions, commands, events, fallback, views
from handlers.context import HandlerContext


def register_handlers(app: App, context: HandlerContext) -> None:
    """Register every command, action, view and event listener on `app`."""
    commands.register(app, context)
    actions.register(app, context)
    views.register(app, context)
    events.register(app, context)
    fallback.register(app)  # last: it takes only what no other listener claimed
