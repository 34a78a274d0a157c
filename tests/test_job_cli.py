"""`collectbot job NAME --now` and `collectbot preview`, as an operator runs them."""

from __future__ import annotations

import pytest

from bot.cli import main
from bot.db import Database
from bot.sandbox.web_api import SlackSandbox
from tests.slack_fixtures import SANDBOX_TOKEN
from tests.test_call_lists_job import _seed


@pytest.fixture
def operator_env(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch
) -> SlackSandbox:
    _seed(db, slack_sandbox)
    _operator_settings(monkeypatch, db_url, slack_sandbox)
    return slack_sandbox


def _operator_settings(
    monkeypatch: pytest.MonkeyPatch, db_url: str, slack_sandbox: SlackSandbox
) -> None:
    for name, value in {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
                        "SLACK_API_URL": slack_sandbox.url,
                        "COLLECTBOT_TIMEZONE": "America/New_York"}.items():
        monkeypatch.setenv(name, value)


def test_job_run_twice_sends_once(
    operator_env: SlackSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["job", "call-lists", "--now", "2026-11-23T08:31:00-05:00"]) == 0
    assert capsys.readouterr().out.strip() == "call-lists: 1 sent, 1 wait"
    assert main(["job", "call-lists", "--now", "2026-11-23T08:40:00-05:00"]) == 0
    assert capsys.readouterr().out.strip() == "call-lists: 1 already sent, 1 wait"
    assert len(operator_env.dms("UANA")) == 1
    assert main(["job", "promises", "--now", "2026-11-23T06:00:00-05:00"]) == 0
    assert capsys.readouterr().out.startswith("promises: ")


def test_job_exits_non_zero_when_a_delivery_failed(
    operator_env: SlackSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    operator_env.fail_next("chat.postMessage", status=200, error="channel_not_found")
    assert main(["job", "call-lists", "--now", "2026-11-23T08:31:00-05:00"]) == 1
    assert capsys.readouterr().out.strip() == "call-lists: 1 failed, 1 wait"
    # The next run retries it, and succeeds.
    assert main(["job", "call-lists", "--now", "2026-11-23T08:36:00-05:00"]) == 0
    assert capsys.readouterr().out.strip() == "call-lists: 1 sent, 1 wait"


def test_job_counts_skipped_lists_apart_from_sent_ones(
    operator_env: SlackSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    # Monday 12:01 in New York is past Ana's cutoff; 09:01 in Los Angeles is Leo's morning.
    assert main(["job", "call-lists", "--now", "2026-11-23T12:01:00-05:00"]) == 0
    assert capsys.readouterr().out.strip() == "call-lists: 1 sent, 1 skipped"
    assert main(["job", "call-lists", "--now", "2026-11-23T12:30:00-05:00"]) == 0
    assert capsys.readouterr().out.strip() == "call-lists: 1 already sent, 1 skipped"


def test_job_rejects_a_time_without_zone_and_an_unknown_job(
    operator_env: SlackSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["job", "call-lists", "--now", "2026-11-23T08:31"])
    assert caught.value.code == 2
    assert "has no time zone: add Z or an offset like -05:00" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["job", "collect-everything"])
    assert "invalid choice: 'collect-everything'" in capsys.readouterr().err
    assert operator_env.calls_to("chat.postMessage") == []


def test_preview_prints_the_lists_and_sends_nothing(
    operator_env: SlackSandbox, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["preview", "--collector", "UANA", "--now", "2026-11-23T14:00:00Z"]) == 0
    out = capsys.readouterr().out
    assert "Ana (UANA) · 2026-11-23 · America/New_York · 5 of target 5" in out
    assert "Ana Customer 005" in out  # the oldest, largest balance comes first
    assert "Leo" not in out
    assert operator_env.calls == []
    assert main(["preview", "--collector", "nobody"]) == 2
    assert "no active collector 'nobody'" in capsys.readouterr().err


def test_preview_counts_every_eligible_account_not_only_the_candidates(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """30 accounts, target 5: a morning job loads 10 candidates, preview scores all 30."""
    _seed(db, slack_sandbox, accounts=30, target=5)
    _operator_settings(monkeypatch, db_url, slack_sandbox)
    assert main(["preview", "--collector", "UANA", "--now", "2026-11-23T14:00:00Z"]) == 0
    assert "25 more eligible accounts did not fit the target" in capsys.readouterr().out
