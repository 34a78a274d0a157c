"""SlackGateway against the sandbox over loopback: retries, error codes, every method it offers."""

from __future__ import annotations

import logging
import socket
import time
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from bot.sandbox.web_api import SlackSandbox
from bot.settings import load_settings
from bot.slack.client import SlackError, SlackGateway
from tests.slack_fixtures import SANDBOX_TOKEN, TEAM_CHANNEL, fast_gateway

SECTION = {"type": "section", "text": {"type": "mrkdwn", "text": "*Acme* $1,200 past due"}}


class RecordingSleep:
    def __init__(self) -> None:
        self.waits: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def test_429_waits_retry_after_then_posts_once(slack_sandbox: SlackSandbox) -> None:
    sleep = RecordingSleep()
    gateway = SlackGateway(SecretStr(SANDBOX_TOKEN), slack_sandbox.url, sleep=sleep)
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=7, times=2)
    ts = gateway.post_message(TEAM_CHANNEL, "hello")
    assert sleep.waits == [7.0, 7.0]
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 3
    assert [m["ts"] for m in slack_sandbox.messages(TEAM_CHANNEL)] == [ts]


def test_429_really_sleeps_retry_after(slack_sandbox: SlackSandbox) -> None:
    gateway = fast_gateway(slack_sandbox.url)
    slack_sandbox.fail_next("auth.test", status=429, retry_after=1)
    started = time.monotonic()
    gateway.auth_test()
    assert time.monotonic() - started >= 1.0  # slept Retry-After itself, not a jittered guess
    assert len(slack_sandbox.calls_to("auth.test")) == 2


def test_429_beyond_retries_is_ratelimited(slack_sandbox: SlackSandbox) -> None:
    gateway = SlackGateway(
        SecretStr(SANDBOX_TOKEN), slack_sandbox.url, max_retries=2, sleep=RecordingSleep()
    )
    slack_sandbox.fail_next("chat.postMessage", status=429, retry_after=0, times=3)
    with pytest.raises(SlackError) as caught:
        gateway.post_message(TEAM_CHANNEL, "hello")
    assert (caught.value.code, caught.value.status) == ("ratelimited", 429)
    assert slack_sandbox.messages(TEAM_CHANNEL) == []


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(slack_gateway: SlackGateway, slack_sandbox: SlackSandbox,
                                   status: int) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=status, times=2)
    slack_gateway.post_message(TEAM_CHANNEL, "hello")
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 3
    assert len(slack_sandbox.messages(TEAM_CHANNEL)) == 1


def test_server_error_beyond_retries_raises_its_code(
    slack_gateway: SlackGateway, slack_sandbox: SlackSandbox
) -> None:
    slack_sandbox.fail_next("chat.postMessage", status=500, times=4)
    with pytest.raises(SlackError) as caught:
        slack_gateway.post_message(TEAM_CHANNEL, "hello")
    assert (caught.value.code, caught.value.status) == ("internal_error", 500)
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 4


def test_connection_refused_is_retried_then_raised() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleep = RecordingSleep()
    gateway = SlackGateway(
        SecretStr(SANDBOX_TOKEN), f"http://127.0.0.1:{port}/api/", max_retries=3, backoff=0.5,
        sleep=sleep,
    )
    with pytest.raises(SlackError) as caught:
        gateway.auth_test()
    assert caught.value.code == "connection_failed"
    assert len(sleep.waits) == 3
    # Exponential: 0.5, 1, 2 seconds, each with up to as much again of jitter.
    for wait, base in zip(sleep.waits, [0.5, 1.0, 2.0], strict=True):
        assert base <= wait <= 2 * base


def test_lost_response_is_not_retried(slack_gateway: SlackGateway,
                                      slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.lose_response_next("chat.postMessage")
    with pytest.raises(SlackError) as caught:
        slack_gateway.post_message(TEAM_CHANNEL, "hello")
    assert caught.value.code == "connection_lost"
    # Slack acted on it: a blind retry would have posted it twice.
    assert len(slack_sandbox.messages(TEAM_CHANNEL)) == 1
    assert len(slack_sandbox.calls_to("chat.postMessage")) == 1


def test_wrong_token_is_invalid_auth(slack_sandbox: SlackSandbox) -> None:
    gateway = fast_gateway(slack_sandbox.url, token="xoxb-not-the-token")
    with pytest.raises(SlackError) as caught:
        gateway.auth_test()
    assert caught.value.code == "invalid_auth"


def test_token_never_logged(slack_sandbox: SlackSandbox, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    gateway = fast_gateway(slack_sandbox.url, token="xoxb-secret-123")
    with pytest.raises(SlackError):
        gateway.post_message(TEAM_CHANNEL, "private body text")
    assert "xoxb-secret-123" not in caplog.text
    assert "private body text" not in caplog.text


def test_from_settings(slack_sandbox: SlackSandbox) -> None:
    settings = load_settings(SLACK_BOT_TOKEN=SANDBOX_TOKEN, SLACK_API_URL=slack_sandbox.url)
    assert SlackGateway.from_settings(settings).auth_test()["user_id"] == "U0COLLECTBOT"
    with pytest.raises(ValueError, match="SLACK_BOT_TOKEN is not set"):
        SlackGateway.from_settings(load_settings(SLACK_BOT_TOKEN=None))
    with pytest.raises(ValueError, match="must end with '/'"):
        SlackGateway(SecretStr("x"), "http://127.0.0.1:1/api")


def test_users(slack_gateway: SlackGateway, slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1", name="ana", tz="Europe/Paris", status_text="On vacation",
                           status_emoji=":palm_tree:")
    info = slack_gateway.user_info("U1")
    assert (info["id"], info["name"], info["tz"]) == ("U1", "ana", "Europe/Paris")
    assert info["tz_offset"] in (3600, 7200)
    assert slack_gateway.user_status("U1") == ("On vacation", ":palm_tree:")
    with pytest.raises(SlackError) as caught:
        slack_gateway.user_info("U404")
    assert caught.value.code == "user_not_found"


def test_open_dm_is_cached(slack_gateway: SlackGateway, slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1")
    first = slack_gateway.open_dm("U1")
    assert first.startswith("D")
    assert slack_gateway.open_dm("U1") == first
    assert len(slack_sandbox.calls_to("conversations.open")) == 1


def test_post_update_ephemeral(slack_gateway: SlackGateway, slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1")
    channel = slack_gateway.open_dm("U1")
    ts = slack_gateway.post_message(channel, "list", [SECTION])
    slack_gateway.update_message(channel, ts, "done", [SECTION])
    [message] = slack_sandbox.dms("U1")
    assert (message["ts"], message["text"], message["blocks"]) == (ts, "done", [SECTION])
    assert "edited" in message
    slack_gateway.post_ephemeral(TEAM_CHANNEL, "U1", "only you")
    assert [e["text"] for e in slack_sandbox.ephemerals("U1")] == ["only you"]
    with pytest.raises(SlackError) as caught:
        slack_gateway.update_message(channel, "1.000001", "x")
    assert caught.value.code == "message_not_found"


def test_invalid_blocks_are_refused_and_logged_before_sending(
    slack_gateway: SlackGateway, slack_sandbox: SlackSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    """Every message, ephemeral, response and view is checked as the sandbox checks it, before
    Slack is called: Slack would refuse it, and a refusal must never be silent."""
    slack_sandbox.add_user("U1")
    channel = slack_gateway.open_dm("U1")
    before = len(slack_sandbox.calls)
    sends = {
        "chat.postMessage": lambda: slack_gateway.post_message(
            TEAM_CHANNEL, "too many", [SECTION] * 51),
        "chat.update": lambda: slack_gateway.update_message(
            channel, "1.000001", "too many", [SECTION] * 51),
        "chat.postEphemeral": lambda: slack_gateway.post_ephemeral(
            channel, "U1", "too many", [SECTION] * 51),
        "response_url": lambda: slack_gateway.respond(
            slack_sandbox.response_url(), "too many", [SECTION] * 51),
        "views.publish": lambda: slack_gateway.publish_home(
            "U1", {"type": "home", "blocks": [SECTION] * 101}),
    }
    for method, send in sends.items():
        with pytest.raises(SlackError) as caught:
            send()
        assert (caught.value.method, caught.value.code) == (method, "invalid_blocks")
        assert caught.value.details
        assert f"slack {method} not sent" in caplog.text
    assert len(slack_sandbox.calls) == before
    assert slack_sandbox.responses() == []


def test_respond_posts_to_the_response_url(
    slack_gateway: SlackGateway, slack_sandbox: SlackSandbox
) -> None:
    url = slack_sandbox.response_url()
    slack_gateway.respond(url, "only you", [SECTION])
    [answer] = slack_sandbox.responses(url)
    assert (answer["text"], answer["response_type"]) == ("only you", "ephemeral")
    assert answer["blocks"] == [SECTION]


def test_views(slack_gateway: SlackGateway, slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1")
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "Log a call"},
             "blocks": [SECTION]}
    view_id = slack_gateway.open_view("trigger-1", modal)
    stored = slack_sandbox.view(view_id)
    assert stored is not None
    assert slack_gateway.update_view(view_id, modal, hash=stored["hash"]) == view_id
    with pytest.raises(SlackError) as caught:
        slack_gateway.update_view(view_id, modal, hash="stale")
    assert caught.value.code == "hash_conflict"
    home = {"type": "home", "blocks": [SECTION]}
    home_id = slack_gateway.publish_home("U1", home)
    assert slack_gateway.publish_home("U1", home) == home_id
    bad = {"type": "modal", "title": {"type": "plain_text", "text": "x" * 25}, "blocks": []}
    with pytest.raises(SlackError) as caught:
        slack_gateway.open_view("trigger-2", bad)
    assert caught.value.code == "invalid_blocks"
    assert caught.value.details
    opened = [c.params.get("trigger_id") for c in slack_sandbox.calls_to("views.open")]
    assert "trigger-2" not in opened


def test_upload_file_three_steps(slack_gateway: SlackGateway,
                                 slack_sandbox: SlackSandbox) -> None:
    content = b"\x89PNG\r\n" + bytes(range(256))
    file_id = slack_gateway.upload_file(TEAM_CHANNEL, "aging.png", content, "Aging", "Weekly recap")
    assert [c.method for c in slack_sandbox.calls] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal",
    ]
    [uploaded] = slack_sandbox.files()
    assert (uploaded.id, uploaded.content, uploaded.title) == (file_id, content, "Aging")
    [message] = slack_sandbox.messages(TEAM_CHANNEL)
    assert message["text"] == "Weekly recap"
    assert message["files"][0]["id"] == file_id


def test_find_messages_with_metadata(slack_gateway: SlackGateway,
                                     slack_sandbox: SlackSandbox) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    wanted = []
    for n in range(205):  # more than one page of history
        key = "k1" if n % 100 == 0 else f"other{n}"
        ts = slack_gateway.post_message(
            TEAM_CHANNEL, f"m{n}", metadata={"event_type": "collectbot_delivery",
                                            "event_payload": {"key": key, "part": 1}},
        )
        if key == "k1":
            wanted.append(ts)
    slack_gateway.post_message(TEAM_CHANNEL, "plain")
    found = slack_gateway.find_messages_with_metadata(TEAM_CHANNEL, "collectbot_delivery", "k1",
                                                      since)
    assert found == wanted
    assert len(slack_sandbox.calls_to("conversations.history")) == 2
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert slack_gateway.find_messages_with_metadata(
        TEAM_CHANNEL, "collectbot_delivery", "k1", later) == []


def test_upload_into_a_thread_with_alt_text(slack_gateway: SlackGateway,
                                            slack_sandbox: SlackSandbox) -> None:
    parent = slack_gateway.post_message(TEAM_CHANNEL, "Weekly recap")
    reply = slack_gateway.post_message(TEAM_CHANNEL, "Per collector", thread_ts=parent)
    content = b"\x89PNG\r\n" + bytes(range(64))
    file_id = slack_gateway.upload_file(
        TEAM_CHANNEL, "recap.png", content, "Recap chart",
        thread_ts=parent, alt_txt="DSO 52 days against a target of 45",
    )
    [get_url] = slack_sandbox.calls_to("files.getUploadURLExternal")
    assert get_url.params["alt_txt"] == "DSO 52 days against a target of 45"
    [complete] = slack_sandbox.calls_to("files.completeUploadExternal")
    assert (complete.params["channel_id"], complete.params["thread_ts"]) == (TEAM_CHANNEL, parent)
    [uploaded] = slack_sandbox.files()
    assert (uploaded.id, uploaded.thread_ts, uploaded.alt_txt) == (
        file_id, parent, "DSO 52 days against a target of 45")
    top, threaded, shared = slack_sandbox.messages(TEAM_CHANNEL)
    assert "thread_ts" not in top
    assert (threaded["ts"], threaded["thread_ts"]) == (reply, parent)
    assert shared["thread_ts"] == parent and shared["files"][0]["id"] == file_id


def test_reply_to_an_unknown_thread_is_refused(slack_gateway: SlackGateway) -> None:
    with pytest.raises(SlackError) as caught:
        slack_gateway.post_message(TEAM_CHANNEL, "Per collector", thread_ts="1.000001")
    assert caught.value.code == "thread_not_found"
