"""Events API listeners."""

from __future__ import annotations

from slack_bolt import App

from handlers.context import HandlerContext
from handlers.events import app_home


def register(app: App, context: HandlerContext) -> None:
    app_home.register(app, context)
