"""`collectbot serve [--host HOST] [--port PORT]`: the Slack app over HTTP (or Socket Mode)."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import sys
import threading
import time
from types import FrameType
from typing import Any

from bot.cli.context import CommandError, open_database
from bot.db import Database
from bot.settings import Settings, load_settings
from bot.slack.client import SlackGateway

logger = logging.getLogger(__name__)

MAX_WORKERS = 64
STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}
# How often the prefork parent looks for a worker that ended (and runs a pending handler).
CHILD_POLL_SECONDS = 0.2


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="run the Slack app: POST /slack/events and GET /healthz on PORT "
        "(Socket Mode when SLACK_APP_TOKEN is set)",
    )
    parser.add_argument("--host", default="0.0.0.0", help="interface to listen on (0.0.0.0)")
    parser.add_argument("--port", type=int, help="TCP port (default: PORT, 3000)")
    parser.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP worker processes sharing the port (default 1; about one per core)",
    )
    parser.add_argument(
        "--with-scheduler",
        action="store_true",
        help="also run the routine's jobs in this process (a small team's single process)",
    )
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
    settings = load_settings()
    _check(settings)
    port = settings.port if args.port is None else args.port
    if not 0 <= port <= 65535:
        raise CommandError(f"--port must be 0..65535, not {port}")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise CommandError(f"--workers must be 1..{MAX_WORKERS}, not {args.workers}")
    if args.with_scheduler and args.workers != 1:
        raise CommandError("--with-scheduler runs in one process: use --workers 1, or run "
                           "`collectbot scheduler` as its own process")
    database = open_database(settings)  # migrations run once, here, before any worker starts
    if args.workers == 1 or settings.slack_app_token is not None:
        clock = _start_scheduler(settings, database) if args.with_scheduler else None
        try:
            if settings.slack_app_token is not None:
                return _socket_mode(settings, database, SlackGateway.from_settings(settings))
            return _serve(settings, database, host=args.host, port=port, sock=None)
        finally:
            if clock is not None:
                stop, thread = clock
                stop.set()
                thread.join(30)
            database.dispose()
    database.dispose()  # no connection may cross a fork
    from bot.web import listening_socket

    try:
        sock = listening_socket(args.host, port)
    except OSError as exc:
        raise CommandError(f"cannot listen on {args.host}:{port}: {exc.strerror}") from None
    return _prefork(settings, sock, args.workers)


def _serve(
    settings: Settings,
    database: Database,
    *,
    host: str,
    port: int,
    sock: socket.socket | None,
    stop_requested: threading.Event | None = None,
) -> int:
    """One process serving HTTP until SIGTERM/SIGINT, then finishing acknowledged work."""
    from urllib.error import URLError

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.web import build_http_app

    gateway = SlackGateway.from_settings(settings)
    try:
        running = build_http_app(settings, database, gateway, host=host, port=port, sock=sock)
    except (BoltError, SlackApiError) as exc:
        raise CommandError(f"Slack refused the bot token: {exc}") from None
    except URLError as exc:
        raise CommandError(
            f"cannot reach Slack at {settings.slack_api_url}: {exc.reason}"
        ) from None
    except OSError as exc:
        raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from None

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping", signal.Signals(signum).name)
        running.server.request_stop()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    if stop_requested is not None and stop_requested.is_set():
        running.server.request_stop()  # told to stop while starting: serve nothing, exit 0
    running.server.serve_forever()
    if not running.wait_idle(10):
        logger.warning("listeners still running at exit")
    return 0


def _start_scheduler(
    settings: Settings, database: Database
) -> tuple[threading.Event, threading.Thread]:
    """The scheduler in a thread of this process; it leads only if no other scheduler does."""
    from scheduler.jobs import JobContext
    from scheduler.runner import run_scheduler

    stop = threading.Event()
    context = JobContext(database, SlackGateway.from_settings(settings), settings)
    thread = threading.Thread(target=run_scheduler, args=(context,), kwargs={"stop": stop},
                              name="scheduler", daemon=True)
    thread.start()
    return stop, thread


def _prefork(settings: Settings, sock: socket.socket, workers: int) -> int:
    """`workers` processes accepting on one socket (one GIL each); SIGTERM reaches them all."""
    host, port = sock.getsockname()[:2]
    children: set[int] = set()
    stopping = threading.Event()

    def _forward(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping %d worker(s)", signal.Signals(signum).name,
                    len(children))
        stopping.set()
        _signal_all(children)

    # The handlers come first: a process-directed signal may be delivered to any thread that does
    # not block it, and an import may have started native threads (a BLAS pool) that block
    # nothing; with a handler in place, that thread only flags it for the main thread. Then the
    # signals wait, in the main thread, until each child has its own handlers (a child inherits
    # the forking thread's mask): a SIGTERM sent as soon as the start-up line is seen is a stop.
    signal.signal(signal.SIGTERM, _forward)
    signal.signal(signal.SIGINT, _forward)
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    logger.info("collectbot on http://%s:%s with %d worker processes", host, port, workers)
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:
            os._exit(_worker(settings, sock))
        children.add(pid)
    sock.close()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    if stopping.is_set():
        _signal_all(children)  # a signal taken by another thread while the children were forked
    status = 0
    while children:
        # Polled, not os.wait(): a signal the kernel hands to another thread (any thread an
        # import started) interrupts no wait of this one, and its handler runs only when this
        # thread runs Python again. Blocked in os.wait(), the parent never forwarded a SIGTERM
        # that came that way, and its workers served on.
        pid, wait_status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            time.sleep(CHILD_POLL_SECONDS)
            continue
        children.discard(pid)
        code = os.waitstatus_to_exitcode(wait_status)
        # A worker still starting when SIGTERM came may die of it: that is a stop, not a failure.
        if code == 0 or (stopping.is_set() and code == -signal.SIGTERM):
            continue
        if status == 0:
            # One worker failing (a bad token, a lost database) means they all would: stop.
            logger.error("worker %s exited with %s; stopping the others", pid, code)
            status = 1
            stopping.set()
            _signal_all(children)
    return status


def _signal_all(children: set[int]) -> None:
    for pid in list(children):
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            children.discard(pid)


def _worker(settings: Settings, sock: socket.socket) -> int:
    """A forked worker's whole life; returns its exit status."""
    stop_requested = threading.Event()

    def _early_stop(_signum: int, _frame: FrameType | None) -> None:
        stop_requested.set()

    signal.signal(signal.SIGTERM, _early_stop)
    signal.signal(signal.SIGINT, _early_stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
    try:
        database = Database(settings.url)
        try:
            host, port = sock.getsockname()[:2]
            return _serve(settings, database, host=host, port=port, sock=sock,
                          stop_requested=stop_requested)
        finally:
            database.dispose()
    except CommandError as exc:
        print(f"collectbot: error: {exc}", file=sys.stderr)
        return 2
    except Exception:
        logger.exception("worker %s failed", os.getpid())
        return 1


def _socket_mode(settings: Settings, database: Database, gateway: SlackGateway) -> int:
    """The app over Socket Mode until SIGTERM/SIGINT, then acks in flight and deferred work end."""
    from urllib.error import URLError

    from slack_bolt.error import BoltError
    from slack_sdk.errors import SlackApiError

    from bot.socket_mode import PING_INTERVAL, build_socket_mode_app

    stop = threading.Event()

    def _terminate(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %s: stopping", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        running = build_socket_mode_app(settings, database, gateway)
        running.connect()  # apps.connections.open with the app token, then the WebSocket
    except (BoltError, SlackApiError) as exc:
        raise CommandError(f"Slack refused the bot or app token: {exc}") from None
    except URLError as exc:
        raise CommandError(
            f"cannot reach Slack at {settings.slack_api_url}: {exc.reason}"
        ) from None
    if running.is_connected():
        logger.info("collectbot in Socket Mode")
    else:
        logger.warning("Socket Mode link not open yet; retrying every %.0f s", PING_INTERVAL)
    while not stop.wait(1):
        pass
    running.stop()
    return 0
