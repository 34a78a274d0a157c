"""`collectbot serve [--host HOST] [--port PORT]`: the Slack app over HTTP (or Socket Mode)."""

from __future__ import annotations

import argparse
import logging
import signal
from types import FrameType
from typing import Any

from bot.cli.context import CommandError, open_database
from bot.settings import Settings, load_settings
from bot.slack.client import SlackGateway

logger = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the Slack app: POST /slack/events and GET /healthz on PORT "
        "(Socket Mode when SLACK_APP_TOKEN is set)",
    )
    parser.add_argument("--host", default="0.0.0.0", help="interface to listen on (0.0.0.0)")
    parser.add_argument("--port", type=int, help="TCP port (default: PORT, 3000)")
    parser.set_defaults(handler=run)


def _check(settings: Settings) -> None:
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if value is None
    ]
    if missing:
        raise CommandError(f"{' and '.join(missing)} must be set to serve")


def run(args: argparse.Namespace) -> int:
    from urllib.error import URLError

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.web import build_http_app

    settings = load_settings()
    _check(settings)
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise CommandError(f"--port must be 0..65535, not {port}")
    database = open_database(settings)
    gateway = SlackGateway.from_settings(settings)
    try:
        if settings.slack_app_token is not None:
            return _socket_mode(settings, database, gateway)
        try:
            running = build_http_app(settings, database, gateway, host=args.host, port=port)
        except (BoltError, SlackApiError) as exc:
            raise CommandError(f"Slack refused the bot token: {exc}") from None
        except URLError as exc:
            raise CommandError(
                f"cannot reach Slack at {settings.slack_api_url}: {exc.reason}"
            ) from None
        except OSError as exc:
            raise CommandError(f"cannot listen on {args.host}:{port}: {exc.strerror}") from None

        def _terminate(signum: int, _frame: FrameType | None) -> None:
            logger.info("signal %s: stopping", signal.Signals(signum).name)
            running.server.request_stop()

        signal.signal(signal.SIGTERM, _terminate)
        signal.signal(signal.SIGINT, _terminate)
        running.server.serve_forever()
        if not running.wait_idle(10):
            logger.warning("listeners still running at exit")
        return 0
    finally:
        database.dispose()


def _socket_mode(settings: Settings, database: Any, gateway: SlackGateway) -> int:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from bot.app import create_app

    assert settings.slack_app_token is not None
    app = create_app(settings, database, gateway)
    logger.info("collectbot in Socket Mode")
    # SIGTERM ends the process like Ctrl-C; Slack hands the socket's events to another connection.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    handler = SocketModeHandler(app, settings.slack_app_token.get_secret_value())
    handler.start()  # type: ignore[no-untyped-call]
    return 0
