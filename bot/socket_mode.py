"""Socket Mode for `collectbot serve` when SLACK_APP_TOKEN is set: the Bolt app over a WebSocket.

The app calls apps.connections.open with the app-level token, connects to the URL it gets, and
takes envelopes from Slack instead of HTTP requests; Slack's SDK client (slack_sdk's built-in
one: no dependency beyond the standard library) acks each envelope with the listener's response,
reconnects when Slack sends `disconnect`, and pings to notice a dead link. There is no signature
to check (the link itself is authenticated), but every payload gets the same shape checks as over
HTTP before any listener sees it.
"""

from __future__ import annotations

import logging
import socket
import time

from slack_bolt import App
from slack_bolt.adapter.socket_mode.builtin import SocketModeHandler
from slack_sdk.socket_mode.builtin import SocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse

from bot.app import create_app, finish_listeners, listener_executor, request_log_ids
from bot.db import Database
from bot.request_guard import MalformedPayload, check_envelope
from bot.settings import Settings
from bot.slack.client import SlackGateway
from handlers.context import Clock

logger = logging.getLogger(__name__)

# At DEBUG the SDK's client logs every envelope whole (response_url, what the user typed) and
# every ack; its own logger stays at INFO so `collectbot -v` never writes them.
_client_logger = logging.getLogger("bot.socket_mode.client")
_client_logger.setLevel(logging.INFO)

# Envelopes the SDK hands to listeners at once (each only acks and defers, so few are needed).
CONCURRENCY = 10
# Bolt's default. The client pings on this beat and checks its link: a link Slack closed is
# replaced at the next beat, one that stopped answering after four beats without a pong.
PING_INTERVAL = 10.0


class _CheckedHandler(SocketModeHandler):
    """Bolt's built-in Socket Mode handler, refusing malformed payloads before Bolt reads them."""

    # Typed as Bolt's own handler types it (narrower than the base class's client).
    def handle(  # type: ignore[override]
        self, client: SocketModeClient, req: SocketModeRequest
    ) -> None:
        try:
            check_envelope(req.type, req.payload)
        except MalformedPayload as exc:
            # From Slack yet unusable: acked so Slack does not send it again, and logged.
            logger.warning("envelope %s ignored: %s", req.envelope_id, exc)
            client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
            return
        with listener_executor(self.app).answering.request(), request_log_ids(req.payload):
            super().handle(client, req)


class SocketModeApp:
    """The Bolt app behind a Socket Mode client, as `collectbot serve` runs it."""

    def __init__(self, app: App, app_token: str, *, ping_interval: float = PING_INTERVAL) -> None:
        self.app = app
        self._stopped = False
        self._handler = _CheckedHandler(
            app,
            app_token,
            logger=_client_logger,
            ping_interval=ping_interval,
            concurrency=CONCURRENCY,
        )

    @property
    def client(self) -> SocketModeClient:
        return self._handler.client

    def connect(self) -> None:
        """apps.connections.open, then the WebSocket; returns once connected (or failed, logged).

        After this the client keeps itself connected: a `disconnect` from Slack or a dead link
        makes it ask for a new URL and connect again.
        """
        try:
            self._handler.connect()  # type: ignore[no-untyped-call]
        except BaseException:
            self.stop()  # the client's threads started with it; a refused token ends them
            raise

    def is_connected(self) -> bool:
        return bool(self.client.is_connected())

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait for listeners still working after their ack; False if some still run."""
        return listener_executor(self.app).wait_idle(timeout)

    def stop(self, timeout: float = 10) -> None:
        """Take no more envelopes, ack those being handled, close, then finish deferred work."""
        if self._stopped:
            return
        self._stopped = True
        close_client(self.client, timeout)
        finish_listeners(self.app, timeout)


def close_client(client: SocketModeClient, timeout: float = 10) -> None:
    """Stop reading, let the envelopes already read be handled and acked, then close the link.

    The SDK's close() alone drops envelopes still queued, and first waits out a blocking read of
    up to 3 s; shutting the socket's reading side ends that read at once and leaves the writing
    side open for the acks.
    """
    client.auto_reconnect_enabled = False
    runner = client.current_session_runner
    runner.event.set()  # the reader's loop ends after this read instead of starting another
    session = client.current_session
    if session is not None and session.sock is not None:
        try:
            session.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # the link is already gone
    while runner.thread is not None and runner.thread.is_alive():
        client.current_session_state.terminated = True
        runner.thread.join(0.05)
    deadline = time.monotonic() + timeout
    while not client.message_queue.empty() and time.monotonic() < deadline:
        time.sleep(0.01)
    client.closed = True
    client.message_queue.put(None)  # wakes the processor now, not after its 1 s poll
    client.message_processor.shutdown()  # type: ignore[no-untyped-call]
    client.message_workers.shutdown(wait=True)  # envelopes being handled send their acks
    client.close()


def build_socket_mode_app(
    settings: Settings,
    database: Database,
    gateway: SlackGateway,
    *,
    clock: Clock | None = None,
    ping_interval: float = PING_INTERVAL,
) -> SocketModeApp:
    """The Bolt app and its Socket Mode client, not yet connected (SLACK_APP_TOKEN required)."""
    if settings.slack_app_token is None:
        raise ValueError("SLACK_APP_TOKEN is not set")
    app = create_app(settings, database, gateway, clock=clock)
    token = settings.slack_app_token.get_secret_value()
    return SocketModeApp(app, token, ping_interval=ping_interval)
