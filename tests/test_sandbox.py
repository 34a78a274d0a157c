"""The Slack sandbox as plain HTTP: what any client (not only ours) sees."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any
from urllib.error import HTTPError
from urllib.parse import urlencode

import pytest

from bot.sandbox.web_api import SlackSandbox
from tests.slack_fixtures import SANDBOX_TOKEN, TEAM_CHANNEL


def call(
    sandbox: SlackSandbox,
    method: str,
    *,
    form: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    token: str | None = SANDBOX_TOKEN,
) -> tuple[int, dict[str, str], dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json; charset=utf-8"
    else:
        data = urlencode(form or {}).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    request = urllib.request.Request(sandbox.url + method, data=data, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), json.loads(response.read())
    except HTTPError as error:
        with error:
            return error.code, dict(error.headers), json.loads(error.read())


def test_url_is_loopback_api_base(slack_sandbox: SlackSandbox) -> None:
    assert slack_sandbox.url.startswith("http://127.0.0.1:")
    assert slack_sandbox.url.endswith("/api/")


def test_tokens(slack_sandbox: SlackSandbox) -> None:
    assert call(slack_sandbox, "auth.test")[2]["ok"] is True
    assert call(slack_sandbox, "auth.test", token="xoxb-bad")[2] == {
        "ok": False, "error": "invalid_auth"}
    assert call(slack_sandbox, "auth.test", token=None)[2]["error"] == "not_authed"
    assert [c.method for c in slack_sandbox.calls] == ["auth.test"] * 3


def test_unknown_method(slack_sandbox: SlackSandbox) -> None:
    status, _, body = call(slack_sandbox, "chat.teleport")
    assert (status, body["error"]) == (404, "unknown_method")


def test_form_and_json_bodies(slack_sandbox: SlackSandbox) -> None:
    blocks = [{"type": "divider"}]
    _, _, form = call(slack_sandbox, "chat.postMessage",
                      form={"channel": TEAM_CHANNEL, "text": "a", "blocks": json.dumps(blocks)})
    _, _, as_json = call(slack_sandbox, "chat.postMessage",
                         body={"channel": TEAM_CHANNEL, "text": "b", "blocks": blocks})
    assert form["ok"] and as_json["ok"]
    assert [m["blocks"] for m in slack_sandbox.messages(TEAM_CHANNEL)] == [blocks, blocks]
    assert slack_sandbox.calls_to("chat.postMessage")[0].params["blocks"] == blocks


@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"channel": "C404", "text": "x"}, "channel_not_found"),
        ({"channel": TEAM_CHANNEL}, "no_text"),
        ({"channel": TEAM_CHANNEL, "text": "x" * 40_001}, "msg_too_long"),
        ({"channel": TEAM_CHANNEL, "text": "x", "blocks": [{"type": "divider"}] * 51},
         "invalid_blocks"),
        ({"channel": TEAM_CHANNEL, "text": "x", "metadata": {"event_payload": {}}},
         "invalid_metadata_format"),
    ],
)
def test_post_message_errors(slack_sandbox: SlackSandbox, params: dict[str, Any],
                             error: str) -> None:
    status, _, body = call(slack_sandbox, "chat.postMessage", body=params)
    assert (status, body["ok"], body["error"]) == (200, False, error)
    assert slack_sandbox.messages() == []


def test_invalid_blocks_lists_errors(slack_sandbox: SlackSandbox) -> None:
    _, _, body = call(slack_sandbox, "chat.postMessage",
                      body={"channel": TEAM_CHANNEL, "text": "x", "blocks": [{"type": "section"}]})
    assert body["error"] == "invalid_blocks"
    assert body["errors"] and body["response_metadata"]["messages"][0].startswith("[ERROR]")


def test_fail_next_then_normal(slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.fail_next("auth.test", status=429, retry_after=3, times=2)
    slack_sandbox.fail_next("auth.test", status=200, error="account_inactive")
    first = call(slack_sandbox, "auth.test")
    assert (first[0], first[1]["Retry-After"], first[2]["error"]) == (429, "3", "ratelimited")
    assert call(slack_sandbox, "auth.test")[0] == 429
    assert call(slack_sandbox, "auth.test")[2]["error"] == "account_inactive"
    assert call(slack_sandbox, "auth.test")[2]["ok"] is True
    with pytest.raises(ValueError, match="needs an error code"):
        slack_sandbox.fail_next("auth.test", status=200)


def test_slow(slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.slow("auth.test", 0.3)
    started = time.monotonic()
    call(slack_sandbox, "auth.test")
    assert time.monotonic() - started >= 0.3
    slack_sandbox.slow("auth.test", 0)
    assert call(slack_sandbox, "auth.test")[2]["ok"] is True


def test_users_and_dms(slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1", name="ana", tz="Asia/Tokyo", status_text="Sick",
                           status_emoji=":face_with_thermometer:")
    user = call(slack_sandbox, "users.info", form={"user": "U1"})[2]["user"]
    assert (user["tz"], user["tz_offset"]) == ("Asia/Tokyo", 9 * 3600)
    profile = call(slack_sandbox, "users.profile.get", form={"user": "U1"})[2]["profile"]
    assert (profile["status_text"], profile["status_emoji"]) == ("Sick", ":face_with_thermometer:")
    assert call(slack_sandbox, "users.info", form={"user": "U2"})[2]["error"] == "user_not_found"
    opened = call(slack_sandbox, "conversations.open", form={"users": "U1"})[2]["channel"]["id"]
    # Posting to a user id lands in the same DM, as Slack does.
    call(slack_sandbox, "chat.postMessage", body={"channel": "U1", "text": "hi"})
    assert slack_sandbox.dm_channel("U1") == opened
    assert [m["text"] for m in slack_sandbox.dms("U1")] == ["hi"]
    with pytest.raises(ValueError, match="unknown time zone"):
        slack_sandbox.add_user("U3", tz="Mars/Olympus")


def test_history_hides_metadata_unless_asked(slack_sandbox: SlackSandbox) -> None:
    metadata = {"event_type": "collectbot_delivery", "event_payload": {"key": "k", "part": 1}}
    call(slack_sandbox, "chat.postMessage",
         body={"channel": TEAM_CHANNEL, "text": "x", "metadata": metadata})
    plain = call(slack_sandbox, "conversations.history", form={"channel": TEAM_CHANNEL})[2]
    full = call(slack_sandbox, "conversations.history",
                form={"channel": TEAM_CHANNEL, "include_all_metadata": "1"})[2]
    assert "metadata" not in plain["messages"][0]
    assert full["messages"][0]["metadata"] == metadata
    newer = call(slack_sandbox, "conversations.history",
                 form={"channel": TEAM_CHANNEL, "oldest": full["messages"][0]["ts"]})[2]
    assert newer["messages"] == []


def test_ts_strictly_increase(slack_sandbox: SlackSandbox) -> None:
    message = {"channel": TEAM_CHANNEL, "text": "x"}
    stamps = [call(slack_sandbox, "chat.postMessage", body=message)[2]["ts"] for _ in range(20)]
    assert stamps == sorted(set(stamps), key=float)


def test_views_publish_checks_view(slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.add_user("U1")
    _, _, body = call(slack_sandbox, "views.publish",
                      body={"user_id": "U1", "view": {"type": "home", "blocks": "x"}})
    assert body["error"] == "invalid_arguments"
    _, _, body = call(slack_sandbox, "views.publish",
                      body={"user_id": "U1", "view": {"type": "home", "blocks": []}})
    assert body["ok"]
    assert slack_sandbox.home_view("U1") == body["view"]


def test_upload_completes_only_after_bytes_arrive(slack_sandbox: SlackSandbox) -> None:
    _, _, url = call(slack_sandbox, "files.getUploadURLExternal",
                     form={"filename": "a.csv", "length": "3"})
    assert url["upload_url"].startswith(slack_sandbox.root)
    files = json.dumps([{"id": url["file_id"], "title": "A"}])
    early = call(slack_sandbox, "files.completeUploadExternal",
                 form={"files": files, "channel_id": TEAM_CHANNEL})[2]
    assert early["error"] == "file_not_found"
    with urllib.request.urlopen(urllib.request.Request(url["upload_url"], data=b"a,b"),
                                timeout=10) as response:
        assert response.status == 200
    done = call(slack_sandbox, "files.completeUploadExternal",
                form={"files": files, "channel_id": TEAM_CHANNEL})[2]
    assert done["files"][0]["id"] == url["file_id"]


def test_stop_closes_the_port() -> None:
    sandbox = SlackSandbox().start()
    url = sandbox.url
    sandbox.stop()
    with pytest.raises(OSError):
        urllib.request.urlopen(url + "auth.test", timeout=2)


def _chart_block(title: str = "DSO, last 12 weeks") -> dict[str, Any]:
    weeks = [f"Wk {n}" for n in range(1, 13)]
    return {
        "type": "data_visualization", "title": title,
        "chart": {"type": "line", "axis_config": {"categories": weeks},
                  "series": [{"name": "DSO", "data": [{"label": w, "value": 50 - n}
                                                      for n, w in enumerate(weeks)]}]},
    }


def test_chart_block_limits_are_checked(slack_sandbox: SlackSandbox) -> None:
    ok = call(slack_sandbox, "chat.postMessage",
              body={"channel": TEAM_CHANNEL, "text": "DSO", "blocks": [_chart_block()]})[2]
    assert ok["ok"]
    long_title = call(slack_sandbox, "chat.postMessage",
                      body={"channel": TEAM_CHANNEL, "text": "DSO",
                            "blocks": [_chart_block("x" * 51)]})[2]
    assert long_title["error"] == "invalid_blocks"
    assert "title is 51 characters; the limit is 50" in long_title["errors"][0]


def test_refused_block_type(slack_sandbox: SlackSandbox) -> None:
    slack_sandbox.refuse_block_type("data_visualization")
    refused = call(slack_sandbox, "chat.postMessage",
                   body={"channel": TEAM_CHANNEL, "text": "DSO", "blocks": [_chart_block()]})[2]
    assert refused["error"] == "invalid_blocks"
    plain = call(slack_sandbox, "chat.postMessage",
                 body={"channel": TEAM_CHANNEL, "text": "DSO",
                       "blocks": [{"type": "divider"}]})[2]
    assert plain["ok"]
    assert [m["text"] for m in slack_sandbox.messages(TEAM_CHANNEL)] == ["DSO"]
