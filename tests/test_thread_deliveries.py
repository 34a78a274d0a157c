"""Replies in a thread as pooled deliveries: sent once, and after a lost answer found in the
thread (conversations.replies, as Slack's history leaves replies out), on both engines."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.db import Database
from bot.domain.vocabulary import DeliveryStatus
from bot.sandbox.web_api import SlackSandbox
from bot.services.deliveries import OutgoingMessage, deliver, enqueue, flush
from bot.services.delivery_sender import methods_of
from bot.slack.client import SlackGateway
from tests.slack_fixtures import TEAM_CHANNEL, fast_gateway
from tests.test_deliveries import NOW, SECTION, Crash, _row
from tests.test_sandbox import call

REPLY = [OutgoingMessage("Reminder: still to decide", [SECTION])]


class DiesAfterPosts(SlackGateway):
    """A gateway whose process dies right after Slack accepted its `posts`-th message."""

    def __init__(self, url: str, posts: int = 1) -> None:
        self.__dict__.update(fast_gateway(url).__dict__)
        self.posts = posts

    def post_message(self, channel: str, text: str, *args: Any, **kwargs: Any) -> str:
        ts = super().post_message(channel, text, *args, **kwargs)
        self.posts -= 1
        if self.posts == 0:
            raise Crash
        return ts


@pytest.fixture
def parent(slack_sandbox: SlackSandbox, slack_gateway: SlackGateway) -> str:
    """A message in the manager's DM, the thread the replies go to."""
    slack_sandbox.add_user("U1", name="max", tz="America/New_York")
    return slack_gateway.post_message("U1", "Escalation: Acme", [SECTION])


def _reply(db: Database, gateway: SlackGateway, parent: str, now: Any = NOW) -> Any:
    return deliver(db, gateway, key="escalation-reminder:1:1", kind="escalation", recipient="U1",
                   messages=REPLY, now=now, thread_ts=parent)


def test_a_reply_goes_in_the_thread_once(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, parent: str
) -> None:
    result = _reply(db, slack_gateway, parent)
    assert result.status == "sent"
    top, reply = slack_sandbox.dms("U1")
    assert (top["ts"], reply["thread_ts"], reply["text"]) == (
        parent, parent, "Reminder: still to decide")
    assert reply["metadata"]["event_payload"] == {"key": "escalation-reminder:1:1", "part": 1}
    assert _reply(db, slack_gateway, parent, NOW + timedelta(hours=1)).status == "already_sent"
    assert len(slack_sandbox.dms("U1")) == 2


def test_a_crash_between_send_and_record_finds_the_reply_in_the_thread(
    db: Database, slack_sandbox: SlackSandbox, parent: str
) -> None:
    with pytest.raises(Crash):
        _reply(db, DiesAfterPosts(slack_sandbox.url), parent)
    assert _row(db, "escalation-reminder:1:1").status is DeliveryStatus.SENDING
    posted = len(slack_sandbox.calls_to("chat.postMessage"))
    result = _reply(db, fast_gateway(slack_sandbox.url), parent, NOW + timedelta(minutes=10))
    assert result.status == "sent"
    assert len(slack_sandbox.calls_to("chat.postMessage")) == posted  # nothing sent again
    reply = slack_sandbox.dms("U1")[1]
    assert result.messages == [{"channel": slack_sandbox.dm_channel("U1"), "ts": reply["ts"]}]
    # Found where Slack keeps it: the history would not have shown it.
    (replies,) = slack_sandbox.calls_to("conversations.replies")
    assert replies.params["ts"] == parent
    assert slack_sandbox.calls_to("conversations.history") == []


def test_queued_reply_sent_by_flush(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, parent: str
) -> None:
    with db.uow() as uow:
        assert enqueue(uow.session, key="r", kind="escalation", recipient="U1",
                       messages=REPLY, thread_ts=parent)
        uow.commit()
    results = flush(db, slack_gateway, ["r"], now=NOW, pace=None)
    assert results["r"].status == "sent"
    assert slack_sandbox.dms("U1")[1]["thread_ts"] == parent
    assert "conversations.replies" in methods_of(_row(db, "r").payload, "U1")


def test_thread_ts_is_checked(db: Database) -> None:
    with db.uow() as uow, pytest.raises(ValueError, match="thread_ts"):
        enqueue(uow.session, key="r", kind="escalation", recipient="U1", messages=REPLY,
                thread_ts="not a ts")


def test_a_threaded_delivery_after_a_crash_finds_its_replies(
    db: Database, slack_gateway: SlackGateway, slack_sandbox: SlackSandbox
) -> None:
    parts = [OutgoingMessage("recap", [SECTION]), OutgoingMessage("details", [SECTION]),
             OutgoingMessage("more", [SECTION])]

    def send(gateway: SlackGateway, now: Any) -> Any:
        return deliver(db, gateway, key="recap:1", kind="recap", recipient=TEAM_CHANNEL,
                       messages=parts, now=now, thread=True)

    with pytest.raises(Crash):
        send(DiesAfterPosts(slack_sandbox.url, posts=2), NOW)
    result = send(fast_gateway(slack_sandbox.url), NOW + timedelta(minutes=10))
    posted = slack_sandbox.messages(TEAM_CHANNEL)
    assert [m["text"] for m in posted] == ["recap", "details", "more"]
    assert [m.get("thread_ts") for m in posted] == [None, posted[0]["ts"], posted[0]["ts"]]
    assert len(slack_sandbox.calls_to("conversations.replies")) == 1
    assert result.status == "sent" and [m["ts"] for m in result.messages] == [
        m["ts"] for m in posted]


def test_sandbox_history_leaves_replies_in_their_thread(slack_sandbox: SlackSandbox) -> None:
    metadata = {"event_type": "collectbot_delivery", "event_payload": {"key": "k", "part": 1}}
    top = call(slack_sandbox, "chat.postMessage",
               body={"channel": TEAM_CHANNEL, "text": "top"})[2]["ts"]
    first = call(slack_sandbox, "chat.postMessage", body={
        "channel": TEAM_CHANNEL, "text": "r1", "thread_ts": top, "metadata": metadata})[2]["ts"]
    # A reply to a reply joins the parent's thread.
    second = call(slack_sandbox, "chat.postMessage", body={
        "channel": TEAM_CHANNEL, "text": "r2", "thread_ts": first})[2]
    assert second["message"]["thread_ts"] == top
    history = call(slack_sandbox, "conversations.history", form={"channel": TEAM_CHANNEL})[2]
    assert [m["text"] for m in history["messages"]] == ["top"]
    plain = call(slack_sandbox, "conversations.replies",
                 form={"channel": TEAM_CHANNEL, "ts": first})[2]
    assert [m["text"] for m in plain["messages"]] == ["top", "r1", "r2"]
    assert "metadata" not in plain["messages"][1]
    full = call(slack_sandbox, "conversations.replies", form={
        "channel": TEAM_CHANNEL, "ts": top, "include_all_metadata": "true", "oldest": first})[2]
    assert [m["text"] for m in full["messages"]] == ["top", "r2"]  # the parent, always
    paged = call(slack_sandbox, "conversations.replies",
                 form={"channel": TEAM_CHANNEL, "ts": top, "limit": "2"})[2]
    assert paged["has_more"] and paged["response_metadata"]["next_cursor"] == "2"
    missing = call(slack_sandbox, "conversations.replies",
                   form={"channel": TEAM_CHANNEL, "ts": "1.000001"})[2]
    assert (missing["ok"], missing["error"]) == (False, "thread_not_found")
