"""The Bolt app factory: signature checks, Slack's own client on SLACK_API_URL, every listener."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import logging
import math
import queue
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from slack_bolt import App, BoltResponse
from slack_bolt.logger.messages import warning_client_prioritized_and_token_skipped
from slack_bolt.middleware import Middleware
from slack_bolt.request import BoltRequest

from bot.db import Database
from bot.logs import log_ids
from bot.request_guard import loggable
from bot.settings import Settings
from bot.slack.client import SlackGateway, bolt_web_client
from handlers import register_handlers
from handlers.context import Clock, HandlerContext, system_clock

logger = logging.getLogger(__name__)

# respond() posts through slack_sdk's WebhookClient, whose DEBUG logs the body and response_url.
logging.getLogger("slack_sdk.webhook.client").setLevel(logging.INFO)


class OwnClientNotice(logging.Filter):
    """Drops Bolt's start-up warning that SLACK_BOT_TOKEN goes unused.

    We hand Bolt our own client on purpose (it must call SLACK_API_URL, which Bolt's own cannot);
    Bolt also reads the token from the environment and warns, at every start, about nothing.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != warning_client_prioritized_and_token_skipped()


BOLT_LOGGER = "bot.bolt"
logging.getLogger(BOLT_LOGGER).addFilter(OwnClientNotice())

LISTENER_THREADS = 4
# Work after the ack (database, chat.update, views.publish) runs on its own small pool, so a
# burst of clicks never waits for earlier clicks' work before being acknowledged.
WORK_THREADS = 4
# Opening a modal must beat its trigger_id's 3 s, so it never queues behind recording work.
FORM_THREADS = 4
SEEN_EVENTS = 10_000
# Deferred work starts once this process has answered every request in hand and none came for
# this long (a burst's requests follow each other closer than that)...
ANSWERING_LULL_SECONDS = 0.01
# ...or once it waited this long, so a steady stream of requests never starves it.
ANSWERING_MAX_WAIT_SECONDS = 0.5


class Stoppable(Protocol):
    def shutdown(self, wait: bool = True) -> None: ...


class PendingWork:
    """Counts tasks submitted and not finished, across pools; waits for none to be left."""

    def __init__(self) -> None:
        self._count = 0
        self._idle = threading.Condition()
        self.pools: list[Stoppable] = []

    def add(self) -> None:
        with self._idle:
            self._count += 1

    def done(self) -> None:
        with self._idle:
            self._count -= 1
            self._idle.notify_all()

    def wait_idle(self, timeout: float) -> bool:
        """Block until nothing is pending (True) or `timeout` seconds pass (False)."""
        with self._idle:
            return self._idle.wait_for(lambda: self._count == 0, timeout=timeout)


class ListenerExecutor(ThreadPoolExecutor):
    """A thread pool whose tasks count in a shared PendingWork (to drain on shutdown, in tests)."""

    def __init__(
        self, pending: PendingWork, max_workers: int = LISTENER_THREADS, name: str = "listener"
    ) -> None:
        super().__init__(max_workers=max_workers, thread_name_prefix=name)
        self.pending = pending
        # The requests being answered, which the recording work waits for (create_app's).
        self.answering = Answering()
        pending.pools.append(self)

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.pending.add()
        try:
            # The submitter's log ids (log_ids) follow the task into the pool's thread.
            future = super().submit(contextvars.copy_context().run, fn, *args, **kwargs)
        except BaseException:
            self.pending.done()
            raise
        future.add_done_callback(lambda _future: self.pending.done())
        return future

    def wait_idle(self, timeout: float) -> bool:
        """Block until no listener and no deferred work is left (True), or `timeout` passes."""
        return self.pending.wait_idle(timeout)


class Answering:
    """The requests this process is answering, so that deferred work lets them go first.

    A burst of clicks otherwise has each click's work (a unit of work, re-renders, Web API
    calls: tens of milliseconds of CPU each) compete for the cores and the GIL with the acks
    still to send, and the last acks wait for the first clicks' work.
    """

    def __init__(
        self,
        lull: float = ANSWERING_LULL_SECONDS,
        max_wait: float = ANSWERING_MAX_WAIT_SECONDS,
    ) -> None:
        self._lull = lull
        self._max_wait = max_wait
        self._count = 0
        self._last_answered = -math.inf
        self._changed = threading.Condition()

    @contextlib.contextmanager
    def request(self) -> Iterator[None]:
        """Around the handling of one request, up to its answer."""
        with self._changed:
            self._count += 1
        try:
            yield
        finally:
            with self._changed:
                self._count -= 1
                self._last_answered = time.monotonic()
                if self._count == 0:
                    self._changed.notify_all()

    def wait_for_lull(self, queued_at: float) -> None:
        """Return once no request is being answered and none was for the lull, or once
        `max_wait` passed since `queued_at` (time.monotonic())."""
        deadline = queued_at + self._max_wait
        with self._changed:
            while (now := time.monotonic()) < deadline:
                if self._count == 0:
                    calm = self._last_answered + self._lull - now
                    if calm <= 0:
                        return
                    self._changed.wait(min(calm, deadline - now))
                else:
                    self._changed.wait(deadline - now)


class WorkPool:
    """Threads taking deferred tasks from a queue, in order; with `answering`, each task waits
    for a lull in the requests (see Answering).

    Not a ThreadPoolExecutor: its submit() waits on a condition with timeout 0 when every
    thread is busy, which hands the GIL to those busy threads, and the request thread that only
    wanted to queue a task and answer Slack waits up to a switch interval (5 ms) to get it back.
    """

    def __init__(
        self, pending: PendingWork, threads: int, name: str, answering: Answering | None = None
    ) -> None:
        self.pending = pending
        self._answering = answering
        self._queue: queue.SimpleQueue[tuple[float, Callable[[], None]] | None] = (
            queue.SimpleQueue()
        )
        self._threads = [
            threading.Thread(target=self._work, name=f"{name}-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()
        pending.pools.append(self)

    def submit(self, task: Callable[[], None]) -> None:
        """Queue a task; returns at once."""
        self.pending.add()
        self._queue.put(
            (time.monotonic(), functools.partial(contextvars.copy_context().run, task))
        )

    def _work(self) -> None:
        while (queued := self._queue.get()) is not None:
            queued_at, task = queued
            try:
                if self._answering is not None:
                    self._answering.wait_for_lull(queued_at)
                _run_logged(task)
            finally:
                self.pending.done()

    def shutdown(self, wait: bool = True) -> None:
        """Let the threads finish what is queued, then stop (wait: join them)."""
        for _thread in self._threads:
            self._queue.put(None)
        if wait:
            for thread in self._threads:
                thread.join()


def _run_logged(work: Callable[[], None]) -> None:
    try:
        work()
    except Exception:
        # Listeners catch what they expect; this is the last line, never a silent thread death.
        logger.exception("deferred work failed")


@contextlib.contextmanager
def request_log_ids(body: Mapping[str, Any]) -> Iterator[None]:
    """Every log line of a request's dispatch, and of the work it defers, names its user and
    Slack's id for it (the event id, else the trigger id).

    Around Bolt's dispatch, not in a middleware: Bolt runs the listeners after every middleware
    has returned, so ids bound inside one would be gone before the listener runs.
    """
    user = body.get("user")
    user_id = user.get("id") if isinstance(user, dict) else body.get("user_id")
    request_id = body.get("event_id") or body.get("trigger_id")
    with log_ids(collector=loggable(user_id, 40) if user_id else None,
                 slack_request_id=loggable(request_id, 80) if request_id else None):
        yield


class EventRetryFilter(Middleware):
    """Drops Slack's retries of an event this process already took (x-slack-retry-num).

    Slack retries an event when it thinks the first delivery failed; the first one may well have
    done the work, so a retry of an event_id seen here is acknowledged and nothing else.
    """

    def __init__(self, capacity: int = SEEN_EVENTS) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._capacity = capacity
        self._lock = threading.Lock()

    def first_time(self, event_id: str) -> bool:
        """Record `event_id`; True if it had not been seen before."""
        with self._lock:
            if event_id in self._seen:
                self._seen.move_to_end(event_id)
                return False
            self._seen[event_id] = None
            if len(self._seen) > self._capacity:
                self._seen.popitem(last=False)
            return True

    # A Middleware subclass, not a function: Bolt calls it as it is, without inspecting a
    # signature to build its arguments on every request.
    def process(
        self, *, req: BoltRequest, resp: BoltResponse, next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        body = req.body
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if isinstance(event_id, str) and not self.first_time(event_id):
            retry = (req.headers.get("x-slack-retry-num") or ["?"])[0]
            logger.info("event %s retry %s ignored: already handled", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()


def create_app(
    settings: Settings,
    database: Database,
    gateway: SlackGateway,
    *,
    clock: Clock | None = None,
    token_verification: bool = True,
) -> App:
    """A Bolt app verifying Slack's signature, with every listener registered on `database`."""
    if settings.slack_bot_token is None:
        raise ValueError("SLACK_BOT_TOKEN is not set")
    if settings.slack_signing_secret is None:
        raise ValueError("SLACK_SIGNING_SECRET is not set")
    client = bolt_web_client(settings.slack_bot_token, settings.slack_api_url)
    pending = PendingWork()
    listeners = ListenerExecutor(pending)
    # Recording work lets a burst's acks go first; opening a form does not wait (its trigger
    # expires in 3 s, and it is one views.open).
    work = WorkPool(pending, WORK_THREADS, "work", answering=listeners.answering)
    forms = WorkPool(pending, FORM_THREADS, "forms")
    app = App(
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        client=client,
        # auth.test once here, against SLACK_API_URL: a bad token fails at start, not on a click.
        token_verification_enabled=token_verification,
        # Every listener only acks (after validating a modal) and defers the rest, so it runs
        # in the request's own thread: no executor hop and no polling before the response.
        process_before_response=True,
        listener_executor=listeners,
        logger=logging.getLogger(BOLT_LOGGER),
    )
    app.use(EventRetryFilter())
    context = HandlerContext(
        settings=settings,
        database=database,
        gateway=gateway,
        clock=clock or system_clock,
        defer=work.submit,
        defer_urgent=forms.submit,
    )
    register_handlers(app, context)
    return app


def listener_executor(app: App) -> ListenerExecutor:
    """The executor create_app gave the app (to wait for listeners in tests and on shutdown)."""
    executor = app.listener_runner.listener_executor
    if not isinstance(executor, ListenerExecutor):
        raise TypeError("this app was not made by create_app")
    return executor


def finish_listeners(app: App, timeout: float = 10) -> None:
    """Let work acknowledged so far finish (a warning after `timeout` s), then stop the pools."""
    executor = listener_executor(app)
    if not executor.wait_idle(timeout):
        logger.warning("listeners still running after %.0f s at shutdown", timeout)
    # wait=True: no thread of this app outlives its stop (a test's warnings-as-errors would
    # blame whichever test runs next).
    for pool in executor.pending.pools:
        pool.shutdown(wait=True)
