"""Block actions on call-list rows (DM messages and the App Home)."""

from __future__ import annotations

from slack_bolt import App

from handlers.actions import escalations, forms, goals, outcomes, undo
from handlers.context import HandlerContext


def register(app: App, context: HandlerContext) -> None:
    outcomes.register(app, context)
    forms.register(app, context)
    undo.register(app, context)
    goals.register(app, context)
    escalations.register(app, context)
