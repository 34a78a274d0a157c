"""HTTP for `collectbot serve`: POST /slack/events via Bolt and GET /healthz, on waitress."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from http import HTTPStatus
from typing import Any

import waitress
from slack_bolt import App, BoltResponse
from slack_bolt.adapter.wsgi import SlackRequestHandler
from slack_bolt.request import BoltRequest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from bot.app import create_app, finish_listeners, listener_executor, request_log_ids
from bot.db import Database
from bot.request_guard import (
    MAX_BODY_BYTES,
    MalformedPayload,
    Refused,
    check_payload,
    loggable,
    read_signed_body,
)
from bot.settings import Settings
from bot.slack.client import SlackGateway
from handlers.context import Clock

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
SERVER_THREADS = 16

StartResponse = Callable[..., Any]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def database_ok(database: Database) -> bool:
    """True when the database answers a trivial query."""
    try:
        with database.read_engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        logger.warning("health check: database unreachable (%s)", type(exc).__name__)
        return False
    return True


def _json(start_response: StartResponse, status: str, body: dict[str, Any]) -> list[bytes]:
    payload = json.dumps(body).encode("utf-8")
    start_response(
        status,
        [("Content-Type", "application/json"), ("Content-Length", str(len(payload)))],
    )
    return [payload]


def _health(database: Database, method: str, start_response: StartResponse) -> list[bytes]:
    if method not in ("GET", "HEAD"):
        return _json(start_response, "405 Method Not Allowed", {"ok": False})
    if database_ok(database):
        return _json(start_response, "200 OK", {"ok": True, "database": "ok"})
    return _json(start_response, "503 Service Unavailable", {"ok": False, "database": "down"})


def make_wsgi_app(
    app: App, database: Database, signing_secret: str, *, clock: Callable[[], float] = time.time
) -> WSGIApp:
    """Slack's verified requests go to Bolt; /healthz checks the database; anything else is 404.

    Every request is checked here first (size, timestamp, signature, then the payload's shape)
    and parsed once; only a sound one reaches Bolt, as the parsed payload.
    """
    slack = SlackRequestHandler(app, path=EVENTS_PATH)
    answering = listener_executor(app).answering

    def events(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        with answering.request():
            return answer(environ, start_response)

    def answer(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        body = read_signed_body(environ, signing_secret, clock)
        if isinstance(body, Refused):
            logger.warning("request refused with %d: %s (from %s)", body.status, body.reason,
                           loggable(environ.get("REMOTE_ADDR"), 45))
            return _json(start_response, _STATUS[body.status], {"error": "invalid request"})
        try:
            payload = check_payload(body, str(environ.get("CONTENT_TYPE") or ""))
        except MalformedPayload as exc:
            # Signed by Slack yet unusable: answering an error would only make Slack retry it.
            logger.warning("signed request ignored: %s (%d bytes)", exc, len(body))
            start_response("200 OK", [("Content-Length", "0")])
            return [b""]
        return _respond(dispatch_verified(app, payload, environ), start_response)

    def application(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO") or "/"
        method = environ.get("REQUEST_METHOD") or "GET"
        if path == HEALTH_PATH:
            return _health(database, method, start_response)
        if path == EVENTS_PATH and method != "POST":
            return _json(start_response, "405 Method Not Allowed", {"ok": False})
        if path == EVENTS_PATH:
            return events(environ, start_response)
        return slack(environ, start_response)

    return application


def dispatch_verified(
    app: App, payload: dict[str, Any], environ: Mapping[str, Any]
) -> BoltResponse:
    """Bolt's dispatch of a payload read_signed_body verified and check_payload parsed.

    Bolt takes it already parsed, as it takes a Socket Mode envelope's ("socket_mode" is Bolt's
    name for that; its only other effect is to skip Bolt's own signature check, made above):
    Bolt's parser would read the body a second time, and misread a slash command whose text
    holds the word "payload".
    """
    headers: dict[str, str | Sequence[str]] = {
        name: str(environ[key]) for key, name in _BOLT_HEADERS if key in environ
    }
    request = BoltRequest(body=payload, headers=headers, mode="socket_mode")
    with request_log_ids(payload):
        return app.dispatch(request)


# The headers a listener or middleware reads (the retry filter reads x-slack-retry-num).
_BOLT_HEADERS = (
    ("CONTENT_TYPE", "content-type"),
    ("HTTP_X_SLACK_RETRY_NUM", "x-slack-retry-num"),
    ("HTTP_X_SLACK_RETRY_REASON", "x-slack-retry-reason"),
    ("HTTP_X_SLACK_REQUEST_TIMESTAMP", "x-slack-request-timestamp"),
)


def _respond(response: BoltResponse, start_response: StartResponse) -> list[bytes]:
    body = response.body.encode("utf-8")
    headers = [
        (name, value) for name, values in response.headers.items()
        if name.lower() != "content-length" for value in values
    ]
    headers.append(("Content-Length", str(len(body))))
    status = HTTPStatus(response.status)
    start_response(f"{status.value} {status.phrase}", headers)
    return [body]


_STATUS = {
    400: "400 Bad Request",
    401: "401 Unauthorized",
    411: "411 Length Required",
    413: "413 Content Too Large",
}


class HttpServer:
    """A threaded waitress server for one WSGI app; stoppable from any thread."""

    def __init__(
        self,
        application: WSGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        sock: socket.socket | None = None,
        threads: int = SERVER_THREADS,
    ) -> None:
        where: dict[str, Any] = {"sockets": [sock]} if sock is not None else {
            "host": host, "port": port
        }
        self._server = waitress.create_server(
            application,
            threads=threads,
            ident="collectbot",
            # Slack retries after 3 s anyway; a stuck client must not hold a thread for long.
            channel_timeout=30,
            # A burst of clicks opens one connection each; waitress's default stops at 100.
            connection_limit=1000,
            # Refused from the Content-Length alone, before waitress buffers a byte of it.
            max_request_body_size=MAX_BODY_BYTES,
            **where,
        )
        self._thread: threading.Thread | None = None
        self._stopped = threading.Event()

    @property
    def host(self) -> str:
        return str(self._server.effective_host)

    @property
    def port(self) -> int:
        return int(self._server.effective_port)

    @property
    def url(self) -> str:
        """http://HOST:PORT (no trailing slash)."""
        return f"http://{self.host}:{self.port}"

    def serve_forever(self) -> None:
        """Serve until stop(); then let running requests finish (5 s at most)."""
        logger.info("collectbot listening on %s", self.url)
        try:
            self._server.run()
        finally:
            self._server.task_dispatcher.shutdown(cancel_pending=False, timeout=5)
            self._stopped.set()
            logger.info("collectbot stopped listening on %s", self.url)

    def start(self) -> HttpServer:
        """Serve in a background thread (tests and the benchmark)."""
        if self._thread is not None:
            raise RuntimeError("server already started")
        self._thread = threading.Thread(target=self.serve_forever, name="http", daemon=True)
        self._thread.start()
        return self

    def request_stop(self) -> None:
        """Ask the loop to close the listening socket and every connection; returns at once."""
        # The socket map belongs to the loop thread, so the closing runs there, via its trigger
        # (safe from a signal handler running on that same thread).
        if self._stopped.is_set():
            return
        try:
            self._server.trigger.pull_trigger(self._close_all)
        except OSError:
            # The loop closed its trigger between the check and the pull: it is already stopping.
            logger.debug("http: stop requested while the server was already stopping")

    def stop(self, timeout: float = 10) -> None:
        """request_stop(), then wait for the server to finish."""
        self.request_stop()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        else:
            self._stopped.wait(timeout)

    def _close_all(self) -> None:
        for dispatcher in list(self._server._map.values()):
            if dispatcher is not self._server and dispatcher is not self._server.trigger:
                dispatcher.close()
        self._server.close()


def listening_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound and listening, to share between worker processes (port 0: any free)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(1024)
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


class RunningApp:
    """The Bolt app behind a started HttpServer, as `collectbot serve` runs it."""

    def __init__(self, app: App, server: HttpServer) -> None:
        self.app = app
        self.server = server

    @property
    def url(self) -> str:
        return self.server.url

    def wait_idle(self, timeout: float = 10) -> bool:
        """Wait for listeners still working after their ack; False if some still run."""
        return listener_executor(self.app).wait_idle(timeout)

    def stop(self, timeout: float = 10) -> None:
        """Stop taking requests, then let acknowledged work finish."""
        self.server.stop(timeout)
        finish_listeners(self.app, timeout)


def build_http_app(
    settings: Settings,
    database: Database,
    gateway: SlackGateway,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    sock: socket.socket | None = None,
    clock: Clock | None = None,
    threads: int = SERVER_THREADS,
) -> RunningApp:
    """The Bolt app and its HTTP server, bound but not yet serving (port 0 picks a free one).

    `sock`, when given, is a listening socket shared with other worker processes.
    """
    app = create_app(settings, database, gateway, clock=clock)
    assert settings.slack_signing_secret is not None  # create_app refuses to start without it
    wsgi = make_wsgi_app(app, database, settings.slack_signing_secret.get_secret_value())
    server = HttpServer(wsgi, host=host, port=port, sock=sock, threads=threads)
    return RunningApp(app, server)
