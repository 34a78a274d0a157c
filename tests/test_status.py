"""`collectbot status` as a probe: what it reads, and one test per exit code."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import Database
from bot.db.migrate import upgrade
from bot.sandbox.web_api import SlackSandbox
from bot.services.deliveries import OutgoingMessage, deliver
from bot.services.job_runs import finish_run, start_run
from scheduler.leader import Leadership
from tests.slack_fixtures import SANDBOX_TOKEN, fast_gateway


@pytest.fixture
def probe_env(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch
) -> SlackSandbox:
    for name, value in {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
                        "SLACK_API_URL": slack_sandbox.url}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    return slack_sandbox


@pytest.fixture
def leader(db: Database) -> Iterator[Leadership]:
    """This test process leads the scheduler while the test runs."""
    with Leadership(db.engine) as leadership:
        assert leadership.try_acquire()
        yield leadership


def _status(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["status", *extra])
    return code, capsys.readouterr().out


def _status_json(capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code, out = _status(capsys, "--json")
    return code, json.loads(out)


def test_all_well_exits_0_and_says_who_leads(
    probe_env: SlackSandbox, leader: Leadership, db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = _status(capsys)
    assert code == 0, out
    assert out.endswith("all well (exit 0)\n")
    assert "slack:      Sandbox (T0SANDBOX) as collectbot" in out
    assert "call-lists: last never ran; next " in out
    assert "deliveries: 0 pending, 0 retrying, 0 failed" in out
    assert "\x1b[" not in out  # not a terminal: plain
    described = (f"pid {os.getpid()} on this machine" if db.dialect == "sqlite"
                 else f"collectbot scheduler on {os.uname().nodename}"[:40])
    assert f"leader:     {described}" in out
    code, report = _status_json(capsys)
    assert code == 0
    assert report["ok"] is True and report["problems"] == []
    assert report["database"]["revision"] == report["database"]["head"]  # type: ignore[index]
    assert {job["name"] for job in report["jobs"]} >= {"call-lists", "promises"}  # type: ignore[attr-defined]


def test_a_job_run_is_recorded_with_its_result(
    probe_env: SlackSandbox, leader: Leadership, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["job", "promises"]) == 0
    capsys.readouterr()
    code, report = _status_json(capsys)
    assert code == 0
    [promises] = [j for j in report["jobs"] if j["name"] == "promises"]  # type: ignore[attr-defined]
    assert promises["result"] == "ok" and promises["trigger"] == "cli"
    assert promises["summary"].startswith("promises: 0 checked")
    assert datetime.fromisoformat(promises["next_run"]) > datetime.now(UTC)


def test_a_failed_delivery_exits_1_with_its_error(
    probe_env: SlackSandbox, leader: Leadership, db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    probe_env.fail_next("chat.postMessage", status=200, error="channel_not_found")
    deliver(db, fast_gateway(probe_env.url), key="notice:C0TEAM:1", kind="notice",
            recipient="C0TEAM", messages=[OutgoingMessage("hello")], now=datetime.now(UTC))
    code, out = _status(capsys)
    assert code == 1, out
    assert "deliveries: 0 pending, 0 retrying, 1 failed" in out
    assert ("  failed notice:C0TEAM:1 (notice to C0TEAM, 1 attempt(s)): channel_not_found"
            in out)
    assert out.endswith("needs attention (exit 1):\n  - 1 delivery(ies) failed\n")


def test_a_job_that_raised_exits_1(
    probe_env: SlackSandbox, leader: Leadership, db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    now = datetime.now(UTC)
    with db.uow() as uow:
        run = start_run(uow, "promises", trigger="scheduler", started_at=now)
        finish_run(uow, run, result="error", summary="OperationalError: gone", finished_at=now)
        uow.commit()
    code, out = _status(capsys)
    assert code == 1, out
    assert "  - job promises: last run error: OperationalError: gone" in out


def test_no_leader_exits_5(probe_env: SlackSandbox, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _status(capsys)
    assert code == 5, out
    assert "leader:     none: no scheduler runs" in out
    assert "  - no scheduler leads: run `collectbot scheduler`" in out


def test_an_overdue_job_exits_5_even_with_a_leader(
    probe_env: SlackSandbox, leader: Leadership, db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    long_ago = datetime.now(UTC) - timedelta(hours=2)
    with db.uow() as uow:
        run = start_run(uow, "call-lists", trigger="scheduler", started_at=long_ago)
        finish_run(uow, run, result="ok", summary="call-lists: nothing due",
                   finished_at=long_ago)
        uow.commit()
    code, out = _status(capsys)
    assert code == 5, out
    assert "  - job call-lists overdue since " in out


def test_slack_refusing_the_token_exits_4(
    probe_env: SlackSandbox, leader: Leadership, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")
    code, out = _status(capsys)
    assert code == 4, out
    assert "slack:      not working: auth.test failed: invalid_auth" in out
    monkeypatch.delenv("SLACK_BOT_TOKEN")
    code, out = _status(capsys)
    assert code == 4
    assert "SLACK_BOT_TOKEN is not set" in out


def test_an_unreachable_database_exits_3_and_outranks_the_rest(
    slack_sandbox: SlackSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/no/such/dir/ledger.sqlite3")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-revoked")  # a problem too, but less fundamental
    monkeypatch.setenv("SLACK_API_URL", slack_sandbox.url)
    code, report = _status_json(capsys)
    assert code == 3
    assert report["exit_code"] == 3
    assert report["database"]["reachable"] is False  # type: ignore[index]
    assert report["deliveries"] is None
    assert [p["code"] for p in report["problems"]][:2] == [3, 4]  # type: ignore[attr-defined]


def test_a_database_behind_the_code_exits_3_and_is_not_upgraded(
    probe_env: SlackSandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = Database(f"sqlite:///{tmp_path}/old.sqlite3")
    upgrade(old.engine, "0001")
    old.dispose()
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/old.sqlite3")
    code, out = _status(capsys)
    assert code == 3, out
    assert "database at migration 0001, code at " in out
    code, out = _status(capsys)
    assert code == 3  # status only looks: the schema is still behind


def test_a_terminal_gets_tables_and_bold(
    probe_env: SlackSandbox, leader: Leadership, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "140")
    code, out = _status(capsys)
    assert code == 0
    assert "\x1b[1m" in out  # bold
    assert "┃ Job " in out.replace("\x1b[1m", "").replace("\x1b[0m", "")
    assert "call-lists" in out
    code, out = _status(capsys, "--json")
    assert "\x1b[" not in out and json.loads(out)["ok"] is True


def test_an_unreachable_postgresql_exits_3_without_its_password(
    slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://ops:s3cret@127.0.0.1:1/ledger")
    monkeypatch.setenv("SLACK_BOT_TOKEN", SANDBOX_TOKEN)
    monkeypatch.setenv("SLACK_API_URL", slack_sandbox.url)
    code, out = _status(capsys)
    assert code == 3, out
    assert "database:   postgresql+psycopg://ops:***@127.0.0.1:1/ledger · unreachable: " in out
    assert "s3cret" not in out
    assert "leader:     unknown (database unreachable)" in out


def test_a_jobs_runs_older_than_ninety_days_are_forgotten_as_it_starts_again(
    db: Database,
) -> None:
    from sqlalchemy import select

    from bot.db.models import JobRun
    from bot.services.job_runs import KEEP_DAYS, last_runs

    now = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)
    ages = (KEEP_DAYS + 30, KEEP_DAYS + 1, KEEP_DAYS - 1, 2)
    with db.uow() as uow:
        uow.session.add_all(
            JobRun(job=job, trigger="scheduler", started_at=now - timedelta(days=days),
                   finished_at=now - timedelta(days=days), result="ok", summary=f"{job} {days}")
            for days in ages for job in ("escalations", "snapshots"))
        uow.commit()
    with db.uow() as uow:
        run = start_run(uow, "escalations", trigger="cli", started_at=now)
        uow.commit()
    with db.uow() as uow:
        kept = uow.session.execute(
            select(JobRun.job, JobRun.summary).order_by(JobRun.job, JobRun.id)).all()
        latest = last_runs(uow.session)
    # Only the job that started again forgets; the other keeps its old runs until it does.
    assert kept == [("escalations", f"escalations {KEEP_DAYS - 1}"),
                    ("escalations", "escalations 2"), ("escalations", None),
                    *[("snapshots", f"snapshots {d}") for d in ages]]
    assert latest["escalations"].run_id == run


def test_invoices_in_another_currency_than_the_ledgers_exit_3(
    probe_env: SlackSandbox, leader: Leadership, db: Database,
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A ledger imported in USD, then COLLECTBOT_CURRENCY set to EUR: every figure would leave
    those invoices out; status says so (a void invoice is no matter)."""
    from datetime import date
    from decimal import Decimal

    from bot.db.models import Customer, Invoice
    from bot.domain.vocabulary import InvoiceStatus

    with db.uow() as uow:
        customer = Customer(external_ref="C-1", name="Acme")
        uow.session.add(customer)
        uow.session.flush()
        uow.session.add_all(
            Invoice(number=f"I-{n}", customer_id=customer.id, issue_date=date(2026, 10, 1),
                    due_date=date(2026, 10, 31), amount=Decimal("100.00"), currency=code,
                    status=InvoiceStatus.VOID if n == 4 else InvoiceStatus.OPEN)
            for n, code in enumerate(["USD", "USD", "GBP", "EUR", "CHF"]))
        uow.commit()
    monkeypatch.setenv("COLLECTBOT_CURRENCY", "EUR")
    code, out = _status(capsys)
    assert code == 3, out
    assert ("the ledger is EUR (COLLECTBOT_CURRENCY) but holds invoices 1 in GBP, 2 in USD: "
            "amounts in unlike currencies are never added") in out
    monkeypatch.setenv("COLLECTBOT_CURRENCY", "USD")
    code, report = _status_json(capsys)
    assert report["database"]["foreign_invoices"] == [["EUR", 1], ["GBP", 1]]  # type: ignore[index]
    assert code == 3
