"""The sender pool against the sandbox, on both engines: exactly once, paced, 429s per method,
and a graceful stop that loses nothing. Times are waited on (events, rows, log lines) and only
ever bounded from below (a pace), never asserted as durations."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import func, select

from bot.db import Database
from bot.db.models import Delivery, SlackGate
from bot.domain.pacing import Pace
from bot.domain.vocabulary import DeliveryStatus
from bot.sandbox.web_api import SlackSandbox
from bot.services.deliveries import OutgoingMessage, enqueue, enqueue_upload
from bot.services.delivery_gates import method_gate
from bot.settings import Settings, load_settings
from bot.slack.client import SlackGateway
from scheduler.senders import SenderPool
from tests.processes import Running, collectbot_env
from tests.slack_fixtures import SANDBOX_TOKEN, TEAM_CHANNEL

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* $12,400 past due"}}
WAIT = 180.0  # seconds a test waits for the queue to drain before it gives up


def _settings(db_url: str, sandbox: SlackSandbox, **extra: object) -> Settings:
    return load_settings(DATABASE_URL=db_url, SLACK_BOT_TOKEN=SANDBOX_TOKEN,
                         SLACK_API_URL=sandbox.url, **extra)


def _channels(sandbox: SlackSandbox, count: int) -> list[str]:
    names = [f"C{n:04d}" for n in range(1, count + 1)]
    for name in names:
        sandbox.add_channel(name, name.lower())
    return names


def _queue(db: Database, keys: dict[str, str], parts: int = 1) -> None:
    with db.uow() as uow:
        for key, channel in keys.items():
            enqueue(uow.session, key=key, kind="notice", recipient=channel,
                    messages=[OutgoingMessage(f"{key} part {n}", [SECTION])
                              for n in range(1, parts + 1)])
        uow.commit()


def _count(db: Database, status: DeliveryStatus) -> int:
    with db.uow(read_only=True) as uow:
        return uow.session.scalar(
            select(func.count()).select_from(Delivery).where(Delivery.status == status)) or 0


def _until(condition: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.05)


def _posted_keys(sandbox: SlackSandbox) -> Counter[tuple[str, int]]:
    return Counter((m["metadata"]["event_payload"]["key"], m["metadata"]["event_payload"]["part"])
                   for m in sandbox.messages() if "metadata" in m)


@pytest.fixture
def pools() -> Iterator[list[SenderPool]]:
    started: list[SenderPool] = []
    yield started
    for pool in started:
        pool.stop()


@pytest.mark.slow
def test_two_senders_drain_500_deliveries_once_each_at_the_channels_pace(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, pools: list[SenderPool]
) -> None:
    interval = 0.2
    settings = _settings(db_url, slack_sandbox, COLLECTBOT_CHANNEL_INTERVAL=str(interval),
                         COLLECTBOT_WORKSPACE_PER_MINUTE="6000")
    channels = _channels(slack_sandbox, 50)
    keys = {f"notice:{n:03d}": channels[n % len(channels)] for n in range(500)}
    _queue(db, keys)
    # Two senders as two processes would be: each its own engine and connections.
    others = [Database(db_url) for _ in range(2)]
    try:
        for database in others:
            pools.append(SenderPool(database, settings, gateway=_pool_gateway(slack_sandbox))
                         .start())
        _until(lambda: _count(db, DeliveryStatus.SENT) == 500, "500 deliveries sent")
        for pool in pools:
            pool.stop()
    finally:
        for database in others:
            database.dispose()

    posted = _posted_keys(slack_sandbox)
    assert set(posted) == {(key, 1) for key in keys}
    assert set(posted.values()) == {1}  # each exactly once
    by_channel: dict[str, list[float]] = defaultdict(list)
    for call in slack_sandbox.calls_to("chat.postMessage"):
        by_channel[call.params["channel"]].append(call.at)
    assert set(by_channel) == set(channels)
    for channel, times in by_channel.items():
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert min(gaps) >= interval - 0.001, (channel, min(gaps))
    with db.uow(read_only=True) as uow:
        holders = uow.session.scalars(select(SlackGate.holder)).all()
    assert set(holders) == {None}  # every channel let go


def _pool_gateway(sandbox: SlackSandbox) -> SlackGateway:
    """The pool's kind of gateway (a 429 raised at once) with a test's quick 5xx retries."""
    return SlackGateway(SecretStr(SANDBOX_TOKEN), sandbox.url, max_retries=3, backoff=0.005,
                        timeout=10, wait_rate_limits=False)


def test_a_429_storm_on_one_method_slows_only_that_method(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, pools: list[SenderPool]
) -> None:
    # No channel pace: the chart is due the moment its post is sent, before the 20 others.
    settings = _settings(db_url, slack_sandbox, COLLECTBOT_CHANNEL_INTERVAL="0",
                         COLLECTBOT_WORKSPACE_PER_MINUTE="6000")
    channels = _channels(slack_sandbox, 20)
    retry_after = 30
    slack_sandbox.fail_next("files.getUploadURLExternal", status=429, retry_after=retry_after,
                            times=100)
    with db.uow() as uow:
        enqueue(uow.session, key="recap:2026-11-22", kind="weekly_recap", recipient=TEAM_CHANNEL,
                messages=[OutgoingMessage("Weekly recap", [SECTION])])
        enqueue_upload(uow.session, key="recap-chart:2026-11-22", kind="recap_chart",
                       after="recap:2026-11-22", recipient=TEAM_CHANNEL, filename="r.png",
                       title="Weekly recap", content=b"\x89PNG...")
        uow.commit()
    _queue(db, {f"notice:{n:02d}": channel for n, channel in enumerate(channels)})
    pools.append(SenderPool(db, settings, gateway=_pool_gateway(slack_sandbox)).start())

    # Every message goes out while files.* waits out its Retry-After.
    _until(lambda: _count(db, DeliveryStatus.SENT) == 21, "21 messages sent")
    pools[0].stop()
    with db.uow(read_only=True) as uow:
        chart = uow.session.scalars(
            select(Delivery).where(Delivery.key == "recap-chart:2026-11-22")).one()
        gates = dict(uow.session.execute(select(SlackGate.name, SlackGate.next_at)).tuples().all())
    assert (chart.status, chart.error, chart.attempts) == (
        DeliveryStatus.RETRYING, "ratelimited", 0)  # a 429 is not a try
    assert chart.next_attempt_at is not None
    assert gates[method_gate("files.upload")] == chart.next_attempt_at
    assert method_gate("chat.postMessage") not in gates  # never closed
    uploads = [c.at for c in slack_sandbox.calls_to("files.getUploadURLExternal")]
    # Retry-After honoured: never asked again sooner (how many times depends on the machine).
    assert all(later - earlier >= retry_after - 0.01
               for earlier, later in zip(uploads, uploads[1:], strict=False))
    # The recap went first (the chart waits for it); the 20 others after the storm began.
    posts = slack_sandbox.calls_to("chat.postMessage")
    assert posts[0].params["channel"] == TEAM_CHANNEL
    assert all(post.at > uploads[0] for post in posts[1:])


def test_5xx_retried_with_backoff_then_given_up_with_the_reason(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, pools: list[SenderPool]
) -> None:
    settings = _settings(db_url, slack_sandbox)
    [channel] = _channels(slack_sandbox, 1)
    # 1 try + 3 gateway retries, twice: the pool's two tries both fail.
    slack_sandbox.fail_next("chat.postMessage", status=503, times=8)
    _queue(db, {"notice:doomed": channel})
    # The second try waits the backoff; a test need not: it comes due at once.
    pace = Pace(timedelta(0), 6000, tries=2, backoff=timedelta(0))
    pools.append(SenderPool(db, settings, gateway=_pool_gateway(slack_sandbox), pace=pace)
                 .start())
    _until(lambda: _count(db, DeliveryStatus.FAILED) == 1, "the delivery given up")
    with db.uow(read_only=True) as uow:
        row = uow.session.scalars(select(Delivery)).one()
    assert (row.attempts, row.error, row.messages) == (2, "internal_error", [])
    assert slack_sandbox.messages(channel) == []


@pytest.mark.slow
@pytest.mark.parametrize("command", ["scheduler", "senders"])
def test_sigterm_finishes_the_message_in_flight_and_a_restart_resumes(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, tmp_path: Path, command: str
) -> None:
    if command == "senders" and db.dialect != "postgresql":
        pytest.skip("collectbot senders runs on PostgreSQL only")
    channels = _channels(slack_sandbox, 6)
    keys = {f"notice:{n:02d}": channels[n % len(channels)] for n in range(12)}
    _queue(db, keys, parts=3)
    env = collectbot_env(db_url, slack_sandbox.url, COLLECTBOT_CHANNEL_INTERVAL="0.05")
    args = [command] if command == "scheduler" else [command, "--workers", "2"]
    release = slack_sandbox.hold("chat.postMessage")
    first = Running(args, env, tmp_path)
    try:
        _until(lambda: bool(slack_sandbox.calls_to("chat.postMessage")), "a message in flight")
        first.process.send_signal(15)
        first.wait_for(r"signal \w+|scheduler: signal")
        release()  # Slack answers the message in flight only now
        assert first.process.wait(60) == 0, first.log
    finally:
        release()
        first.close()
    assert _count(db, DeliveryStatus.SENDING) == 0  # every claim handed back
    recorded = _recorded_ts(db)
    assert {m["ts"] for m in slack_sandbox.messages()} <= recorded  # nothing half-sent

    second = Running(args, env, tmp_path)
    try:
        _until(lambda: _count(db, DeliveryStatus.SENT) == len(keys), "the queue drained")
        assert second.terminate() == 0, second.log
    finally:
        second.close()
    posted = _posted_keys(slack_sandbox)
    assert set(posted) == {(key, part) for key in keys for part in (1, 2, 3)}
    assert set(posted.values()) == {1}


def _recorded_ts(db: Database) -> set[str]:
    with db.uow(read_only=True) as uow:
        return {ref["ts"] for refs in uow.session.scalars(select(Delivery.messages))
                for ref in refs or ()}
