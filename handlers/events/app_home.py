"""app_home_opened: publish the Home tab the user should see (collector or manager)."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import App

from bot.services.home import publish_home
from bot.services.metrics import MetricsConfig
from handlers.context import HandlerContext

logger = logging.getLogger(__name__)


def register(app: App, context: HandlerContext) -> None:
    @app.event("app_home_opened")
    def home_opened(event: dict[str, Any]) -> None:
        # Events are acknowledged by Bolt before this runs; the Messages tab needs nothing.
        if event.get("tab", "home") != "home":
            return
        user_id = str(event.get("user") or "")
        if not user_id:
            return
        context.defer(lambda: _publish(context, user_id))


def _publish(context: HandlerContext, user_id: str) -> None:
    try:
        publish_home(
            context.database,
            context.gateway,
            user_id,
            now=context.now(),
            default_tz=context.default_tz,
            metrics=MetricsConfig.from_settings(context.settings),
        )
    except Exception:
        logger.exception("app home for %s failed", user_id)
