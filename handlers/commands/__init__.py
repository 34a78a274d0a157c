"""Slash commands."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands import collect
from handlers.context import HandlerContext


def register(app: App, context: HandlerContext) -> None:
    collect.register(app, context)
