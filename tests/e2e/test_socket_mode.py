"""Socket Mode itself: the link, hello, acks and their timing, Slack's disconnects, and `serve`.

The scenarios (commands, clicks, forms) run over Socket Mode too where test_collect.py and
test_buttons.py mark them `over_both_transports`; these tests are about the transport.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.db import Database
from bot.domain.vocabulary import Outcome
from bot.sandbox.socket_mode import Ack, SocketModeServer
from bot.sandbox.web_api import SlackSandbox
from bot.socket_mode import build_socket_mode_app
from tests.e2e.conftest import ANA, E2E, SIGNING_SECRET, STRANGER, TZ, app_settings
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway

socket_only = pytest.mark.parametrize("transport", ["socket"])


def _server(e2e: E2E) -> SocketModeServer:
    assert e2e.sandbox.socket_mode is not None
    return e2e.sandbox.socket_mode


def _row(e2e: E2E, index: int = 0) -> str:
    entry = e2e.entries(ANA)[index]
    return f"{entry.call_list_id}:{entry.customer_id}"


def _click(e2e: E2E, action_id: str, value: str) -> Ack:
    message, channel = e2e.list_message(ANA)
    payload = e2e.sender.action_payload(
        ANA, {"type": "button", "action_id": action_id, "value": value},
        message=message, channel=channel,
    )
    return _server(e2e).request("interactive", payload, accepts_response_payload=False)


def _wire(e2e: E2E) -> list[tuple[str, int]]:
    return [(event.what, event.link) for event in _server(e2e).events]


@socket_only
def test_the_app_opens_a_link_with_the_app_token_and_acks_each_envelope(e2e: E2E) -> None:
    [opened] = e2e.sandbox.calls_to("apps.connections.open")
    assert opened.params == {}  # the app token travels in the Authorization header only
    ack = _click(e2e, "outcome:reached", _row(e2e))
    assert ack.payload is None  # a click's ack is empty: the work happens after it
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.REACHED]
    assert _wire(e2e) == [("connected", 1), ("hello", 1), ("envelope", 1), ("ack", 1)]


@socket_only
def test_acks_leave_before_slack_answers_the_work_they_started(e2e: E2E) -> None:
    # Slack gives an envelope 3 s. Every Web API call the work makes is held unanswered here:
    # an ack that waited for any of them could not arrive at all until they are released.
    server = _server(e2e)
    view = _open_promise_form(e2e)
    releases = [e2e.sandbox.hold(method) for method in ("chat.update", "chat.postEphemeral",
                                                        "views.publish")]
    click = _click(e2e, "outcome:no_answer", _row(e2e, 1))
    refused = _click(e2e, "outcome:reached", "1:2:3:oops")
    command = e2e.sender.command(STRANGER, "help")[0]
    submitted = e2e.sender.submit(ANA, view, _PROMISE)
    assert (click.payload, refused.payload) == (None, None)
    assert (command.body, submitted.body) == (b"", b"")
    assert e2e.sandbox.ephemerals() == []  # nothing Slack was asked to show has been shown
    assert "edited" not in e2e.list_message(ANA)[0]
    for release in releases:
        release()
    e2e.settle()
    # ...and all of it happened once released.
    assert any("not valid any more" in e["text"] for e in e2e.sandbox.ephemerals(ANA))
    assert "Done 2 of" in str(e2e.list_message(ANA)[0]["blocks"])
    assert sorted(a.outcome for a in e2e.attempts()) == sorted(
        [Outcome.NO_ANSWER, Outcome.PROMISE_TO_PAY]
    )
    sent = [e.envelope_id for e in server.events if e.what == "envelope"]
    acked = [e.envelope_id for e in server.events if e.what == "ack"]
    assert sorted(sent) == sorted(acked)


_PROMISE = {
    "amount": {"amount": {"type": "plain_text_input", "value": "250"}},
    "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-20"}},
}


def _open_promise_form(e2e: E2E) -> dict[str, object]:
    _click(e2e, "open:promise_to_pay", _row(e2e))
    e2e.settle()
    [view] = e2e.sandbox.modals()
    return view


@socket_only
@pytest.mark.parametrize("reason", ["refresh_requested", "warning"])
def test_a_disconnect_makes_the_app_reconnect_and_the_next_envelope_is_handled(
    e2e: E2E, reason: str
) -> None:
    server = _server(e2e)
    _click(e2e, "outcome:reached", _row(e2e, 0))
    old = server.disconnect(reason)
    # The app asks for a new URL, opens a second link, then closes the one Slack retires.
    server.wait_closed(old)
    assert len(e2e.sandbox.calls_to("apps.connections.open")) == 2
    ack = _click(e2e, "outcome:left_voicemail", _row(e2e, 1))
    assert ack.link == 2
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.REACHED, Outcome.LEFT_VOICEMAIL]
    # (Link 2's hello and link 1's closing race each other: they are on two sockets.)
    assert [step for step in _wire(e2e) if step[0] != "hello"] == [
        ("connected", 1), ("envelope", 1), ("ack", 1), ("disconnect", 1),
        ("connected", 2), ("closed", 1), ("envelope", 2), ("ack", 2),
    ]
    assert _wire(e2e).index(("hello", 2)) < _wire(e2e).index(("envelope", 2))


@socket_only
def test_a_link_slack_closes_is_replaced(e2e: E2E) -> None:
    server = _server(e2e)
    old = server.close_link()
    server.wait_closed(old)
    ack = _click(e2e, "outcome:reached", _row(e2e))
    assert ack.link == 2
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.REACHED]


@socket_only
def test_a_malformed_envelope_is_acked_ignored_and_logged_once(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    no_user = {"type": "block_actions", "actions": [{"action_id": "outcome:reached"}]}
    ack = _server(e2e).request("interactive", no_user)
    assert ack.payload is None
    e2e.settle()
    assert e2e.attempts() == [] and e2e.audit_count() == audits
    assert len(e2e.sandbox.calls) == calls
    ignored = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert ignored == [f"envelope {ack.envelope_id} ignored: user.id missing"]


@socket_only
def test_stop_finishes_acked_work_and_closes_the_link(e2e: E2E) -> None:
    release = e2e.sandbox.hold("chat.update")
    _click(e2e, "outcome:paid", _row(e2e))
    stopping = threading.Thread(target=e2e.running.stop)
    stopping.start()
    release()
    stopping.join(30)
    assert not stopping.is_alive()
    assert _server(e2e).open_links() == []
    assert [a.outcome for a in e2e.attempts()] == [Outcome.PAID]
    assert "edited" in e2e.list_message(ANA)[0]  # the row's update went out before the exit


# --- `collectbot serve` with SLACK_APP_TOKEN, as a process --------------------------------


@pytest.mark.slow
def test_collectbot_serve_connects_over_socket_mode_and_stops_on_sigterm(
    slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    server = slack_sandbox.enable_socket_mode()
    slack_sandbox.add_user(STRANGER, tz=TZ)
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_APP_TOKEN": server.app_token,
        "SLACK_API_URL": slack_sandbox.url,
    }
    with subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
    ) as process:
        try:
            server.wait_link(timeout=30)
            url = slack_sandbox.response_url()
            fields = {"command": "/collect", "text": "help", "user_id": STRANGER,
                      "response_url": url, "team_id": "T0SANDBOX", "trigger_id": "t-1"}
            ack = server.request("slash_commands", fields, timeout=30)
            assert ack.payload is None
            process.send_signal(signal.SIGTERM)
            _out, rest = process.communicate(timeout=20)
        finally:
            if process.poll() is None:
                process.kill()
    assert process.returncode == 0, rest
    assert "collectbot in Socket Mode" in rest and "stopping" in rest
    assert "subcommands" in slack_sandbox.responses(url)[0]["text"]
    assert server.open_links() == []


def test_an_app_token_slack_does_not_know_is_refused_at_start(
    slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    slack_sandbox.enable_socket_mode()
    url = f"sqlite:///{tmp_path / 'serve.sqlite3'}"
    database = Database(url)
    settings = app_settings(url, slack_sandbox, SLACK_APP_TOKEN="xapp-1-not-this-one")
    running = build_socket_mode_app(settings, database, fast_gateway(slack_sandbox.url))
    with pytest.raises(SlackApiError) as refused:
        running.connect()
    assert refused.value.response["error"] == "invalid_auth"
    assert "xapp-1-not-this-one" not in str(refused.value)
    assert not running.is_connected()
    # A bot token is not an app token either: Slack says which kind it wanted.
    client = WebClient(base_url=slack_sandbox.url)
    with pytest.raises(SlackApiError) as wrong_kind:
        client.apps_connections_open(app_token=SANDBOX_TOKEN)
    assert wrong_kind.value.response["error"] == "not_allowed_token_type"
    database.dispose()
