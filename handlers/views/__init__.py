"""Modal submissions."""

from __future__ import annotations

from slack_bolt import App

from handlers.context import HandlerContext
from handlers.views import escalations, goals, submissions


def register(app: App, context: HandlerContext) -> None:
    submissions.register(app, context)
    goals.register(app, context)
    escalations.register(app, context)
