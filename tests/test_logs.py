"""Logs an operator can use: JSON lines with the event's ids, job names, a quiet start."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import create_app
from bot.db import Database
from bot.logs import ContextIdsFilter, JsonFormatter, OneLineFormatter, log_ids
from bot.sandbox.web_api import SlackSandbox
from bot.settings import load_settings
from scheduler.jobs import JOBS, JobContext, run_job
from scheduler.runner import build_scheduler
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway
from tests.test_call_lists_job import NY_MORNING, _seed, _settings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def json_lines() -> Iterator[io.StringIO]:
    """Every record from our loggers, as the JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ContextIdsFilter())
    handler.setFormatter(JsonFormatter())
    root, ours = logging.getLogger(), logging.getLogger("bot")
    levels = root.level, ours.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    ours.setLevel(logging.NOTSET)  # `collectbot demo` quietens it for the rest of the process
    yield stream
    root.removeHandler(handler)
    root.setLevel(levels[0])
    ours.setLevel(levels[1])


def _records(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_a_json_line_carries_ids_from_extra_and_context(json_lines: io.StringIO) -> None:
    log = logging.getLogger("bot.test")
    with log_ids(job="call-lists", job_run=7, collector="UANA"):
        log.warning("two\nlines", extra={"collector": "UBEN", "delivery_key": "k:1"})
    log.info("outside")
    first, second = _records(json_lines)
    assert first["event"] == "two\nlines" and first["level"] == "WARNING"
    assert first["logger"] == "bot.test"
    assert {k: first[k] for k in ("job", "job_run", "collector", "delivery_key")} == {
        "job": "call-lists", "job_run": "7", "collector": "UBEN", "delivery_key": "k:1"}
    assert "job" not in second
    assert len(json_lines.getvalue().splitlines()) == 2  # the line break stayed in its record


def test_text_lines_escape_line_breaks() -> None:
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, "a\nb\rc", None, None)
    assert OneLineFormatter("%(message)s").format(record) == "a\\nb\\rc"


def test_unknown_log_ids_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown log id"), log_ids(customer="C1"):
        pass


def test_a_job_run_logs_its_job_run_collector_delivery_key_and_slack_request_id(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, json_lines: io.StringIO
) -> None:
    _seed(db, slack_sandbox)
    slack_sandbox.fail_next("chat.postMessage", status=200, error="channel_not_found")
    context = JobContext(db, fast_gateway(slack_sandbox.url), _settings(db_url, slack_sandbox))
    result = run_job("call-lists", context, NY_MORNING)
    assert result.failed == 1
    records = _records(json_lines)
    refused = next(r for r in records if r["event"].startswith("slack chat.postMessage failed"))
    assert str(refused["slack_request_id"]).startswith("sandbox-")
    failed = next(r for r in records if r["event"].startswith("delivery calllist:UANA:"))
    assert failed["delivery_key"] == "calllist:UANA:2026-11-23"
    assert failed["collector"] == "UANA"
    assert failed["job"] == "call-lists"
    run_ids = {r.get("job_run") for r in records}
    assert len(run_ids) == 1 and None not in run_ids  # every line of the run names it
    assert records[-1]["event"].startswith("call-lists: 1 failed")


def test_the_scheduler_names_its_jobs(db: Database, db_url: str,
                                      slack_sandbox: SlackSandbox) -> None:
    context = JobContext(db, fast_gateway(slack_sandbox.url), _settings(db_url, slack_sandbox))
    jobs = build_scheduler(context).get_jobs()
    assert sorted(job.name for job in jobs) == sorted(JOBS)
    assert all(job.name == job.id for job in jobs)  # not "build_scheduler.<locals>.run"


def test_the_app_starts_without_a_warning(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Bolt reads SLACK_BOT_TOKEN from the environment, as in production.
    monkeypatch.setenv("SLACK_BOT_TOKEN", SANDBOX_TOKEN)
    settings = load_settings(DATABASE_URL=db_url, SLACK_API_URL=slack_sandbox.url,
                             SLACK_SIGNING_SECRET="secret")
    with caplog.at_level(logging.DEBUG):
        create_app(settings, db, fast_gateway(slack_sandbox.url))
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


@pytest.mark.slow
def test_log_format_json_from_the_command_line(tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "DATABASE_URL": f"sqlite:///{tmp_path}/l.sqlite3",
           "COLLECTBOT_LOG_FORMAT": "json"}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "-v", "db", "upgrade"], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert lines, "-v logs the migration"
    assert all(json.loads(line)["logger"] for line in lines)
    env["COLLECTBOT_LOG_FORMAT"] = "text"
    done = subprocess.run([sys.executable, "-m", "bot.cli", "--log-format", "json", "-v", "db",
                           "upgrade"], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert all(json.loads(line) for line in done.stderr.splitlines())
