"""The HTTP surface: Slack's signature, /healthz, and `collectbot serve` as a process."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.db import Database
from bot.sandbox.sender import SlackSender, http_request, sign
from bot.sandbox.web_api import SlackSandbox
from bot.settings import load_settings
from bot.web import build_http_app
from tests.e2e.conftest import ANA, E2E, SIGNING_SECRET
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway


def _row_value(e2e: E2E) -> str:
    entry = e2e.entries(ANA)[0]
    return f"{entry.call_list_id}:{entry.customer_id}"


def _nothing_happened(e2e: E2E, audits: int, calls: int) -> None:
    e2e.settle()
    assert e2e.attempts() == []
    assert e2e.audit_count() == audits
    assert len(e2e.sandbox.calls) == calls


def test_forged_signature_is_401_and_touches_nothing(e2e: E2E) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    message, channel = e2e.list_message(ANA)
    forged = "v0=" + "0" * 64
    reply = e2e.sender.click(
        ANA, "outcome:reached", _row_value(e2e), message=message, channel=channel,
        signature=forged,
    )
    assert reply.status == 401
    # Signed with another secret: as wrong as a made-up signature.
    e2e.sender.secret = "not-the-secret"
    reply = e2e.sender.click(ANA, "outcome:reached", _row_value(e2e))
    assert reply.status == 401
    reply, _url = e2e.sender.command(ANA, "log C0001 reached")
    assert reply.status == 401
    _nothing_happened(e2e, audits, calls)
    assert e2e.sandbox.responses() == []


def test_stale_timestamp_is_401_even_with_a_valid_signature(e2e: E2E) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    six_minutes_ago = int(time.time()) - 6 * 60
    reply = e2e.sender.click(ANA, "outcome:reached", _row_value(e2e), timestamp=six_minutes_ago)
    assert reply.status == 401
    reply = e2e.sender.post(
        json.dumps({"type": "event_callback", "event_id": "Ev1",
                    "event": {"type": "app_home_opened", "user": ANA, "tab": "home"}}).encode(),
        "application/json",
        timestamp=six_minutes_ago,
    )
    assert reply.status == 401
    _nothing_happened(e2e, audits, calls)


def test_unsigned_and_future_dated_requests_are_401(e2e: E2E) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    body = b"payload=" + json.dumps({"type": "block_actions"}).encode()
    unsigned = http_request(e2e.sender.base_url, "POST", "/slack/events", body,
                            {"Content-Type": "application/x-www-form-urlencoded"})
    assert unsigned.status == 401
    ten_minutes_ahead = int(time.time()) + 10 * 60
    reply = e2e.sender.click(ANA, "outcome:reached", _row_value(e2e),
                             timestamp=ten_minutes_ahead)
    assert reply.status == 401
    _nothing_happened(e2e, audits, calls)


def test_a_signed_fresh_request_is_accepted(e2e: E2E) -> None:
    message, channel = e2e.list_message(ANA)
    reply = e2e.sender.click(
        ANA, "outcome:reached", _row_value(e2e), message=message, channel=channel
    )
    assert reply.status == 200
    e2e.settle()
    assert len(e2e.attempts()) == 1


def test_healthz_ok_and_unknown_paths(e2e: E2E) -> None:
    reply = http_request(e2e.running.url, "GET", "/healthz")
    assert reply.status == 200
    assert reply.json() == {"ok": True, "database": "ok"}
    assert http_request(e2e.running.url, "GET", "/nowhere").status == 404
    assert http_request(e2e.running.url, "GET", "/slack/events").status == 405


def test_healthz_503_when_the_database_is_down(
    slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    missing = tmp_path / "no-such-dir" / "ledger.sqlite3"
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{missing}",
        SLACK_BOT_TOKEN=SANDBOX_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_sandbox.url,
    )
    database = Database(settings.url)
    running = build_http_app(
        settings, database, fast_gateway(slack_sandbox.url), host="127.0.0.1", port=0
    )
    running.server.start()
    try:
        reply = http_request(running.url, "GET", "/healthz")
    finally:
        running.stop()
        database.dispose()
    assert reply.status == 503, reply.body  # keep what it said, should it ever fail again
    assert reply.json() == {"ok": False, "database": "down"}


def _serve_env(slack_sandbox: SlackSandbox, database: Path) -> dict[str, str]:
    """The environment of a `collectbot serve` process against the sandbox (HTTP mode)."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
        "SLACK_SIGNING_SECRET": SIGNING_SECRET,
        "SLACK_API_URL": slack_sandbox.url,
    }
    env.pop("SLACK_APP_TOKEN", None)
    return env


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_collectbot_serve_process_answers_and_stops_on_sigterm(
    slack_sandbox: SlackSandbox, tmp_path: Path, workers: int
) -> None:
    env = _serve_env(slack_sandbox, tmp_path / "serve.sqlite3")
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0",
         "--workers", str(workers)],
        cwd=tmp_path,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        url = None
        deadline = time.monotonic() + 30
        while url is None and time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
            url = found[1] if found else None
        assert url is not None, "serve did not report its address"
        for _ in range(4):  # with two workers, the kernel spreads these over both
            health = http_request(url, "GET", "/healthz")
            assert health.status == 200 and health.json()["database"] == "ok"
        body = b'{"type": "url_verification", "challenge": "c-123"}'
        stamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body),
        }
        challenge = http_request(url, "POST", "/slack/events", body, headers)
        assert challenge.status == 200 and challenge.json() == {"challenge": "c-123"}
        process.send_signal(signal.SIGTERM)
        _out, rest = process.communicate(timeout=15)
        assert process.returncode == 0, rest
        assert "stopping" in rest
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()
    # The schema was built on start.
    assert (tmp_path / "serve.sqlite3").exists()


# A thread that blocks no signal, as a native pool started by an import (BLAS) is: the kernel may
# hand it the process-directed SIGTERM while the main thread blocks it.
_WITH_A_THREAD = (
    "import sys, threading, time;"
    "threading.Thread(target=time.sleep, args=(600,), daemon=True).start();"
    "from bot.cli import main; sys.exit(main(sys.argv[1:]))"
)


@pytest.mark.slow
@pytest.mark.parametrize("start", [["-m", "bot.cli"], ["-c", _WITH_A_THREAD]],
                         ids=["plain", "another-thread"])
def test_sigterm_while_workers_start_is_a_clean_stop(
    slack_sandbox: SlackSandbox, tmp_path: Path, start: list[str]
) -> None:
    env = _serve_env(slack_sandbox, tmp_path / "serve.sqlite3")
    with subprocess.Popen(
        [sys.executable, *start, "serve", "--host", "127.0.0.1", "--port", "0",
         "--workers", "2"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    ) as process:
        assert process.stderr is not None
        # The parent announces the workers before they have started: stop them right there.
        while "worker processes" not in (line := process.stderr.readline()):
            assert line, "serve exited before starting its workers"
        process.send_signal(signal.SIGTERM)
        rest = _stderr_once_stopped(process)
    assert process.returncode == 0, rest
    assert "ERROR" not in rest


def _stderr_once_stopped(process: subprocess.Popen[str]) -> str:
    """The rest of serve's log once it stopped; the test fails if it runs on 60 s after SIGTERM
    (long enough for two workers still importing on a loaded machine to start and stop)."""
    try:
        return process.communicate(timeout=60)[1]
    except subprocess.TimeoutExpired:
        # Not stopped: kill it and its workers, or leaving the Popen block would wait forever.
        os.killpg(process.pid, signal.SIGKILL)
        pytest.fail(f"serve --workers 2 did not stop within 60 s of SIGTERM:\n"
                    f"{process.communicate()[1]}")


# SIGTERM taken by a thread other than the main one (the kernel may hand a process's signal to
# any thread that does not block it), once the parent has its handler and has forked.
_SIGNAL_TO_ANOTHER_THREAD = (
    "import signal, sys, threading, time\n"
    "def later():\n"
    "    while signal.getsignal(signal.SIGTERM) in (signal.SIG_DFL, None):\n"
    "        time.sleep(0.05)\n"
    "    time.sleep(float(sys.argv[1]))\n"
    "    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)\n"
    "threading.Thread(target=later, daemon=True).start()\n"
    "from bot.cli import main\n"
    "sys.exit(main(sys.argv[2:]))\n"
)


@pytest.mark.slow
def test_a_sigterm_another_thread_of_the_parent_takes_stops_every_worker(
    slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    env = _serve_env(slack_sandbox, tmp_path / "serve.sqlite3")
    with subprocess.Popen(
        [sys.executable, "-c", _SIGNAL_TO_ANOTHER_THREAD, "2", "serve", "--host", "127.0.0.1",
         "--port", "0", "--workers", "2"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True, start_new_session=True,
    ) as process:
        rest = _stderr_once_stopped(process)
    assert process.returncode == 0, rest
    assert "signal SIGTERM: stopping 2 worker(s)" in rest  # the parent forwarded it


def test_an_unexpected_failure_is_logged_and_the_user_told_nothing_was_saved(
    slack_sandbox: SlackSandbox, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database that cannot be opened: every service call fails with an unexpected error.
    missing = tmp_path / "no-such-dir" / "ledger.sqlite3"
    settings = load_settings(
        DATABASE_URL=f"sqlite:///{missing}",
        SLACK_BOT_TOKEN=SANDBOX_TOKEN,
        SLACK_SIGNING_SECRET=SIGNING_SECRET,
        SLACK_API_URL=slack_sandbox.url,
    )
    slack_sandbox.add_user(ANA)
    database = Database(settings.url)
    running = build_http_app(
        settings, database, fast_gateway(slack_sandbox.url), host="127.0.0.1", port=0
    )
    running.server.start()
    try:
        sender = SlackSender(running.url, slack_sandbox, SIGNING_SECRET)
        reply = sender.click(ANA, "outcome:reached", "1:2")
        assert reply.status == 200 and reply.body == b""
        assert running.wait_idle(30)
    finally:
        running.stop()
        database.dispose()
    [shown] = slack_sandbox.ephemerals(ANA)
    assert shown["text"] == "Something went wrong; nothing was saved."
    failures = [r for r in caplog.records if r.levelname == "ERROR" and r.exc_info]
    assert any("outcome reached on list 1 customer 2" in r.getMessage() for r in failures)
    assert all(SANDBOX_TOKEN not in r.getMessage() for r in caplog.records)
    assert all(SIGNING_SECRET not in r.getMessage() for r in caplog.records)


@pytest.mark.slow
def test_serve_with_scheduler_runs_the_jobs_in_the_same_process(
    slack_sandbox: SlackSandbox, tmp_path: Path
) -> None:
    env = _serve_env(slack_sandbox, tmp_path / "one.sqlite3")
    refused = subprocess.run(
        [sys.executable, "-m", "bot.cli", "serve", "--with-scheduler", "--workers", "2"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=30, check=False,
    )
    assert refused.returncode == 2
    assert "--with-scheduler runs in one process" in refused.stderr
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "serve", "--host", "127.0.0.1", "--port", "0",
         "--with-scheduler"],
        cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert process.stderr is not None
        seen: list[str] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            line = process.stderr.readline()
            if not line:
                break
            seen.append(line)
            text = "".join(seen)
            if "call-lists: no active collectors" in text and "listening on" in text:
                break
        text = "".join(seen)
        assert "scheduler: this process is the leader" in text
        assert "call-lists: no active collectors" in text
        process.send_signal(signal.SIGTERM)
        _out, _rest = process.communicate(timeout=40)
        assert process.returncode == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert [r.getMessage() for r in caplog.records if r.exc_info or r.levelname == "ERROR"] == []
    assert "Traceback" not in caplog.text


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"payload=%7B", {"Content-Type": "application/x-www-form-urlencoded"}),
        (b"x", {"Content-Type": "application/json"}),
        (b"payload=%7B", {"Content-Type": "application/x-www-form-urlencoded",
                          "X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=abc"}),
        (b"\xff\xfe", {"Content-Type": "application/json",
                       "X-Slack-Request-Timestamp": "-1", "X-Slack-Signature": "v0="}),
    ],
    ids=["form-not-json", "json-not-json", "timestamp-abc", "not-utf8"],
)
def test_unsigned_unparseable_requests_are_401_before_anything_parses_them(
    e2e: E2E, caplog: pytest.LogCaptureFixture, body: bytes, headers: dict[str, str]
) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    reply = http_request(e2e.running.url, "POST", "/slack/events", body, headers)
    assert reply.status == 401
    _nothing_happened(e2e, audits, calls)
    _no_traceback(caplog)


def _ignored_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "signed request ignored" in r.getMessage()]


@pytest.mark.parametrize(
    "payload",
    [
        {"type": "block_actions", "user": {"id": ANA}, "trigger_id": "t"},
        {"type": "block_actions", "actions": [{"action_id": "outcome:reached", "value": "1:1"}]},
        {"type": "block_actions", "user": {"id": "U0ANA\nERROR forged line"},
         "actions": [{"action_id": "outcome:reached", "value": "1:1"}]},
        {"type": "view_submission", "user": {"id": ANA}},
        "not json {",
        ["a", "list"],
    ],
    ids=["no-actions", "no-user", "newline-user", "no-view", "payload-not-json", "not-object"],
)
def test_malformed_signed_payloads_are_200_and_ignored_with_one_log_line(
    e2e: E2E, caplog: pytest.LogCaptureFixture, payload: object
) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    raw = payload if isinstance(payload, str) else json.dumps(payload)
    body = b"payload=" + raw.replace("%", "%25").replace("&", "%26").encode()
    reply = e2e.sender.post(body, "application/x-www-form-urlencoded")
    assert reply.status == 200
    _nothing_happened(e2e, audits, calls)
    assert len(_ignored_lines(caplog)) == 1
    assert all("\n" not in r.getMessage() for r in caplog.records)
    _no_traceback(caplog)


def test_unknown_action_and_callback_ids_are_acked_not_404(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO")
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    reply = e2e.sender.click(ANA, "retired:button", "1:1")
    assert (reply.status, reply.body) == (200, b"")
    view = {"id": "V0OLD", "type": "modal", "callback_id": "retired_modal",
            "private_metadata": "", "blocks": []}
    reply = e2e.sender.submit(ANA, view, {})
    assert (reply.status, reply.body) == (200, b"")
    reply = e2e.sender.event({"type": "reaction_added", "user": ANA})
    assert reply.status == 200
    _nothing_happened(e2e, audits, calls)
    logged = [r.getMessage() for r in caplog.records if "ignored" in r.getMessage()]
    assert logged == [
        f"unknown action retired:button by {ANA} ignored",
        f"unknown view retired_modal by {ANA} ignored",
        "event reaction_added ignored",
    ]
    _no_traceback(caplog)


def test_an_oversize_body_is_413_and_never_logged(
    e2e: E2E, caplog: pytest.LogCaptureFixture
) -> None:
    audits, calls = e2e.audit_count(), len(e2e.sandbox.calls)
    body = b"payload=" + b"A" * (2 * 1024 * 1024)
    stamp = str(int(time.time()))
    headers = {"Content-Type": "application/x-www-form-urlencoded",
               "X-Slack-Request-Timestamp": stamp,
               "X-Slack-Signature": sign(SIGNING_SECRET, stamp, body)}
    try:
        reply = http_request(e2e.running.url, "POST", "/slack/events", body, headers)
        assert reply.status == 413
    except ConnectionError:
        pass  # the server may close before the client finished sending: refused all the same
    _nothing_happened(e2e, audits, calls)
    assert "AAAAAAAAAA" not in caplog.text
    assert len(caplog.text) < 10_000


def test_an_unverified_body_is_never_logged(e2e: E2E, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("DEBUG")
    marker = "secret-looking-body-" + "B" * 100
    body = b"payload=" + json.dumps({"type": "block_actions", "note": marker}).encode()
    reply = e2e.sender.post(body, "application/x-www-form-urlencoded", signature="v0=" + "0" * 64)
    assert reply.status == 401
    e2e.settle()
    assert marker not in caplog.text
    assert any("signature does not match" in r.getMessage() for r in caplog.records)


def test_log_lines_escape_line_breaks_from_user_input() -> None:
    import logging

    from bot.cli import OneLineFormatter

    formatter = OneLineFormatter("%(levelname)s %(message)s")
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "by %s", ("U1\nERROR forged",), None)
    assert formatter.format(record) == "INFO by U1\\nERROR forged"


def test_a_command_whose_text_says_payload_still_reaches_collect(e2e: E2E) -> None:
    # Bolt's parser takes any form with the word "payload" in it for an interaction.
    reply, url = e2e.sender.command(ANA, "note C0001 the payload of the truck arrives Friday")
    assert reply.status == 200
    e2e.settle()
    [answer] = e2e.sandbox.responses(url)
    assert answer["text"].startswith("Noted on")
    [attempt] = e2e.attempts()
    assert attempt.note == "the payload of the truck arrives Friday"
