"""Exactly-once deliveries on SQLite and PostgreSQL, with the real gateway against the sandbox."""

from __future__ import annotations

import multiprocessing
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.db import Database
from bot.db.models import Delivery
from bot.domain.vocabulary import DeliveryStatus
from bot.sandbox.web_api import SlackSandbox
from bot.services.deliveries import (
    DELIVERY_EVENT,
    DeliveryResult,
    OutgoingMessage,
    deliver,
    delivery_messages,
    mark_skipped,
)
from bot.slack.client import SlackGateway
from tests.at_once import run_at_once
from tests.slack_fixtures import TEAM_CHANNEL, fast_gateway

NOW = datetime(2026, 11, 23, 13, 30, tzinfo=UTC)
KEY = "calllist:U1:2026-11-23"
SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* $12,400 past due"}}
LIST = [OutgoingMessage("Your call list for Monday", [SECTION])]


class Crash(Exception):
    """The process died right after Slack accepted a message."""


class CrashAfterPost(SlackGateway):
    """A gateway that dies after `posts` successful chat.postMessage calls."""

    def __init__(self, url: str, posts: int) -> None:
        other = fast_gateway(url)
        self.__dict__.update(other.__dict__)
        self.posts = posts

    def post_message(
        self,
        channel: str,
        text: str,
        blocks: Sequence[Mapping[str, Any]] | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> str:
        if self.posts == 0:
            raise Crash
        self.posts -= 1
        return super().post_message(channel, text, blocks, metadata)


@pytest.fixture
def collector(slack_sandbox: SlackSandbox) -> str:
    slack_sandbox.add_user("U1", name="ana", tz="America/Chicago")
    return "U1"


def _run(database: Database, gateway: SlackGateway, now: datetime = NOW,
         messages: Sequence[OutgoingMessage] = LIST, key: str = KEY) -> DeliveryResult:
    return deliver(database, gateway, key=key, kind="call_list", recipient="U1",
                   messages=messages, now=now)


def _row(database: Database, key: str = KEY) -> Delivery:
    with database.uow() as uow:
        row = uow.session.scalars(select(Delivery).where(Delivery.key == key)).one()
        uow.session.expunge(row)
        return row


def test_sends_once_with_metadata_and_records_it(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    result = _run(db, slack_gateway)
    [message] = slack_sandbox.dms(collector)
    assert result.status == "sent"
    assert result.messages == [{"channel": slack_sandbox.dm_channel(collector),
                                "ts": message["ts"]}]
    assert message["metadata"] == {"event_type": DELIVERY_EVENT,
                                   "event_payload": {"key": KEY, "part": 1}}
    row = _row(db)
    assert (row.status, row.attempts, row.sent_at, row.claimed_at) == (
        DeliveryStatus.SENT, 1, NOW, NOW)
    assert delivery_messages(db, KEY) == result.messages
    assert delivery_messages(db, "no-such-key") == []


def test_job_run_twice_sends_once(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    first = _run(db, slack_gateway)
    second = _run(db, slack_gateway, now=NOW + timedelta(hours=1))
    assert (first.status, second.status) == ("sent", "already_sent")
    assert second.messages == first.messages
    assert len(slack_sandbox.dms(collector)) == 1
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 1


@pytest.mark.parametrize(("status", "retry_after"), [(429, 0), (500, 1)])
def test_rate_limits_and_server_errors_then_sent_once(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str,
    *, status: int, retry_after: int,
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=status, retry_after=retry_after, times=2)
    assert _run(db, slack_gateway).status == "sent"
    assert len(slack_sandbox.dms(collector)) == 1
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 3  # the two failures were served


def test_failure_after_retries_is_failed_then_retried_next_run(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=503, times=4)
    failed = _run(db, slack_gateway)
    assert (failed.status, failed.error) == ("failed", "internal_error")
    row = _row(db)
    assert (row.status, row.error) == (DeliveryStatus.FAILED, "internal_error")
    assert slack_sandbox.dms(collector) == []
    # The next run (same minute even) claims a failed row again and sends it once.
    retried = _run(db, slack_gateway)
    assert retried.status == "sent"
    assert len(slack_sandbox.dms(collector)) == 1
    assert (_row(db).attempts, _row(db).error) == (2, None)


def test_invalid_blocks_fail_with_slacks_code(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    result = _run(db, slack_gateway, messages=[OutgoingMessage("list", [SECTION] * 51)])
    assert (result.status, result.error) == ("failed", "invalid_blocks")
    assert (_row(db).status, _row(db).error) == (DeliveryStatus.FAILED, "invalid_blocks")
    assert slack_sandbox.messages() == []


def test_wrong_token_fails_invalid_auth(
    db: Database, slack_sandbox: SlackSandbox, collector: str
) -> None:
    gateway = fast_gateway(slack_sandbox.url, token="xoxb-revoked")
    result = _run(db, gateway)
    assert (result.status, result.error) == ("failed", "invalid_auth")
    assert slack_sandbox.messages() == []


def test_crash_between_send_and_mark_finds_earlier_message(
    db: Database, slack_sandbox: SlackSandbox, collector: str
) -> None:
    with pytest.raises(Crash):
        _run(db, CrashAfterPost(slack_sandbox.url, posts=1),
             messages=[*LIST, OutgoingMessage("never reached")])
    [earlier] = slack_sandbox.dms(collector)
    assert _row(db).status == DeliveryStatus.SENDING  # claimed, its sender gone

    gateway = fast_gateway(slack_sandbox.url)
    # Within the lease the claim still stands: nothing is sent.
    assert _run(db, gateway, now=NOW + timedelta(minutes=4)).status == "in_progress"
    result = _run(db, gateway, now=NOW + timedelta(minutes=6), messages=LIST)
    assert result.status == "sent"
    assert [m["ts"] for m in result.messages] == [earlier["ts"]]
    assert len(slack_sandbox.dms(collector)) == 1
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 1
    assert len(slack_sandbox.calls_to("conversations.history")) == 1


def test_multi_part_crash_sends_only_the_missing_part(
    db: Database, slack_sandbox: SlackSandbox, collector: str
) -> None:
    parts = [OutgoingMessage("part 1", [SECTION]), OutgoingMessage("part 2", [SECTION])]
    with pytest.raises(Crash):
        _run(db, CrashAfterPost(slack_sandbox.url, posts=1), messages=parts)
    result = _run(db, fast_gateway(slack_sandbox.url), now=NOW + timedelta(minutes=10),
                  messages=parts)
    dms = slack_sandbox.dms(collector)
    assert [m["text"] for m in dms] == ["part 1", "part 2"]
    assert result.status == "sent"
    assert [m["ts"] for m in result.messages] == [m["ts"] for m in dms]
    assert [m["metadata"]["event_payload"]["part"] for m in dms] == [1, 2]


def test_lost_response_then_rerun_sends_nothing_more(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    slack_sandbox.lose_response_next("chat.postMessage")
    failed = _run(db, slack_gateway)
    assert (failed.status, failed.error) == ("failed", "connection_lost")
    result = _run(db, slack_gateway, now=NOW + timedelta(minutes=1))
    assert result.status == "sent"
    assert len(slack_sandbox.dms(collector)) == 1
    assert result.messages[0]["ts"] == slack_sandbox.dms(collector)[0]["ts"]


def test_channel_recipient(db: Database, slack_gateway: SlackGateway,
                           slack_sandbox: SlackSandbox) -> None:
    result = deliver(db, slack_gateway, key="recap:2026-W48", kind="weekly_recap",
                     recipient=TEAM_CHANNEL, messages=LIST, now=NOW)
    assert result.messages == [{"channel": TEAM_CHANNEL,
                                "ts": slack_sandbox.messages(TEAM_CHANNEL)[0]["ts"]}]
    assert slack_sandbox.calls_to("conversations.open") == []


def test_skipped_day_is_never_sent(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    status = mark_skipped(db, KEY, "call_list", "U1", "out of office: :palm_tree:", NOW)
    assert status == DeliveryStatus.SKIPPED
    result = _run(db, slack_gateway)
    assert (result.status, result.error) == ("skipped", "out of office: :palm_tree:")
    assert slack_sandbox.messages() == []
    # A delivery already sent is not turned into a skip.
    _run(db, slack_gateway, key="other")
    assert mark_skipped(db, "other", "call_list", "U1", "late", NOW) == DeliveryStatus.SENT


def test_bad_input_changes_nothing(db: Database, slack_gateway: SlackGateway) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        _run(db, slack_gateway, now=NOW.replace(tzinfo=None))
    with pytest.raises(ValueError, match="has no messages"):
        _run(db, slack_gateway, messages=[])
    with pytest.raises(ValueError, match="recipient"):
        deliver(db, slack_gateway, key=KEY, kind="call_list", recipient="ana", messages=LIST,
                now=NOW)
    with db.uow() as uow:
        assert uow.session.scalars(select(Delivery)).all() == []


def test_same_key_other_recipient_is_refused(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, collector: str
) -> None:
    _run(db, slack_gateway)
    with pytest.raises(ValueError, match="exists as call_list to U1"):
        deliver(db, slack_gateway, key=KEY, kind="call_list", recipient="U2", messages=LIST,
                now=NOW)
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 1  # only the first delivery


def test_two_threads_same_key_send_once(
    db: Database, slack_sandbox: SlackSandbox, collector: str
) -> None:
    slack_sandbox.slow("chat.postMessage", 0.2)
    gateways = [fast_gateway(slack_sandbox.url) for _ in range(2)]
    results = run_at_once(lambda: _run(db, gateways.pop()).status, timeout=30)
    assert sorted(results) in (["in_progress", "sent"], ["already_sent", "sent"])
    assert len(slack_sandbox.dms(collector)) == 1


def deliver_in_process(db_url: str, api_url: str, barrier: Any, results: Any) -> None:
    """Run one delivery in a spawned process (module level so spawn can import it)."""
    database = Database(db_url)
    try:
        barrier.wait(timeout=60)
        results.put(_run(database, fast_gateway(api_url)).status)
    finally:
        database.dispose()


@pytest.mark.slow
def test_two_processes_same_key_send_once(
    db_url: str, db: Database, slack_sandbox: SlackSandbox, collector: str
) -> None:
    slack_sandbox.slow("chat.postMessage", 0.2)
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    processes = [
        context.Process(target=deliver_in_process,
                        args=(db_url, slack_sandbox.url, barrier, results))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    for process in processes:
        process.join(timeout=60)
    assert [p.exitcode for p in processes] == [0, 0]
    statuses = sorted(results.get(timeout=5) for _ in processes)
    assert statuses in (["in_progress", "sent"], ["already_sent", "sent"])
    assert len(slack_sandbox.dms(collector)) == 1
    assert _row(db).status == DeliveryStatus.SENT
    results.close()
    results.join_thread()
