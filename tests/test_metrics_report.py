"""`report --json`'s metrics on a hand-computed ledger; the snapshots job and the import's
backfill."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import ARSnapshot, Customer, Invoice, Payment, PaymentAllocation, TeamMember
from bot.domain.vocabulary import InvoiceStatus
from bot.sandbox.web_api import SlackSandbox
from bot.services.metrics import MetricsConfig, metrics_as_of
from bot.services.snapshots import run_snapshots
from tests.slack_fixtures import SANDBOX_TOKEN

AS_OF = date(2026, 3, 1)  # the first of a month: the countback's newest month is one day
D = Decimal
CONFIG = MetricsConfig(zone=ZoneInfo("UTC"), country="US", collector_day_cost=D("200"))


def _ledger(db: Database) -> None:
    """Four invoices of Ana's; the comments are the hand computation for a 30-day period
    (2026-01-31 to 2026-03-01; beginning: the end of 2026-01-30)."""
    with db.uow() as uow:
        s = uow.session
        ana = TeamMember(slack_user_id="U1ANA", name="Ana", daily_call_target=10)
        s.add(ana)
        s.flush()
        c1 = Customer(external_ref="C1", name="Acme", collector_id=ana.id)
        s.add(c1)
        s.flush()

        def inv(number: str, issued: date, due: date, amount: str, paid: str = "0", *,
                settled: date | None = None) -> Invoice:
            row = Invoice(number=number, customer_id=c1.id, issue_date=issued, due_date=due,
                          amount=D(amount), amount_paid=D(paid), settled_date=settled,
                          status=InvoiceStatus.PAID if settled else InvoiceStatus.OPEN)
            s.add(row)
            s.flush()
            if paid != "0":
                payment = Payment(external_ref=f"P-{number}", customer_id=c1.id,
                                  amount=D(paid), paid_on=settled or date(2026, 2, 15))
                s.add(payment)
                s.flush()
                s.add(PaymentAllocation(payment_id=payment.id, invoice_id=row.id,
                                        amount=D(paid), applied_on=payment.paid_on))
            return row

        # sold in the period, current on the date: 600
        inv("I1", date(2026, 2, 10), date(2026, 3, 12), "600")
        # settled after the date: open in full (400, 40 days, 31-60); 1-30 at the beginning
        inv("I2", date(2026, 1, 5), date(2026, 1, 20), "400", "400", settled=date(2026, 3, 5))
        # current at the beginning, paid 2026-02-20: 300 cash in the period, gone by the date
        inv("I3", date(2026, 1, 25), date(2026, 2, 5), "300", "300", settled=date(2026, 2, 20))
        # 50 of 200 paid 2026-02-15: 150 open, 60 days (31-60); 200 in 1-30 at the beginning
        inv("I4", date(2025, 12, 1), date(2025, 12, 31), "200", "50")
        uow.commit()


def test_metrics_as_of_the_first_of_a_month(db: Database) -> None:
    _ledger(db)
    with db.uow() as uow:
        report = metrics_as_of(uow.session, AS_OF, CONFIG, period_days=30)
    m = report.team
    assert m.total_ar == D("1150.00")  # 600 + 400 + 150
    assert m.credit_sales == D("600.00")  # I1 only
    assert m.dso == D("57.50")  # 1150 / 600 × 30
    assert m.best_possible_dso == D("30.00")  # 600 / 600 × 30
    assert m.add == D("27.50")
    # March 1 (no sales, 1 day) + February (600, 28 days) + 550 / 700 of January's 31 days
    assert m.dso_countback == D("53.36")
    assert m.cei == D("38.89")  # (900 + 600 − 1150) / (900 + 600 − 600)
    assert m.percent_current == D("52.17")
    assert m.past_due_collected_pct == D("8.33")  # 600 past due at the start, 550 still open
    assert m.roll_rates[next(iter(m.roll_rates))] == D("91.67")  # 1-30: 600 → 550
    assert m.cash_collected == D("350.00")  # 300 + 50; the 400 came after the date
    # February 2026 has 20 weekdays, one of them Presidents' Day: 19 days × 10 calls, × $200
    assert m.calls_target == 190
    assert m.cost_of_collecting == D("3800.00")
    assert m.cost_per_dollar_collected == D("10.86")
    assert m.promise_kept_rate is None
    assert m.right_party_contact_rate is None
    assert [line.name for line in report.by_collector] == ["Ana"]
    assert report.by_collector[0].metrics == m


def test_report_json_has_the_stable_metrics_keys(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ledger(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "--as-of", "2026-03-01", "--period-days", "30", "--json"]) == 0
    body = json.loads(capsys.readouterr().out)
    metrics = body["metrics"]
    assert set(metrics) >= {
        "period_days", "credit_sales", "dso", "dso_countback", "best_possible_dso", "add", "cei",
        "percent_current", "past_due_collected_pct", "roll_rates", "promise_kept_rate",
        "right_party_contact_rate", "calls_made", "calls_target", "cash_collected",
        "cost_per_dollar_collected", "collectors",
    }
    assert metrics["period_days"] == 30
    assert metrics["dso"] == "57.50"
    assert metrics["cei"] == "38.89"
    assert metrics["cost_per_dollar_collected"] is None  # no COLLECTBOT_COLLECTOR_DAY_COST
    assert metrics["collectors"][0]["slack_user_id"] == "U1ANA"
    assert body["total_ar"] == "1150.00"


def test_report_without_sales_prints_nulls(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "--as-of", "2026-03-01", "--json"]) == 0
    metrics = json.loads(capsys.readouterr().out)["metrics"]
    assert metrics["dso"] is None
    assert metrics["cei"] is None
    assert main(["report", "--as-of", "2026-03-01"]) == 0
    assert "DSO (days)" in capsys.readouterr().out


def test_a_bad_period_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.sqlite3'}")
    with pytest.raises(SystemExit):
        main(["report", "--period-days", "0"])
    assert "the period is 1 to 3650 days" in capsys.readouterr().err


def test_snapshots_job_catches_up_and_is_idempotent(db: Database) -> None:
    _ledger(db)
    now = datetime(2026, 3, 2, 0, 15, tzinfo=UTC)
    with db.uow() as uow:
        first = run_snapshots(uow.session, now, CONFIG)
        uow.commit()
    assert first.days == 365  # a year on the first run
    assert first.last == AS_OF
    with db.uow() as uow:
        again = run_snapshots(uow.session, now, CONFIG)
        uow.commit()
        assert again.days == 0
        # Three days later (the scheduler was down): the three missed days, no more.
        later = run_snapshots(uow.session, datetime(2026, 3, 5, 1, 0, tzinfo=UTC), CONFIG)
        uow.commit()
        assert (later.first, later.last, later.days) == (date(2026, 3, 2), date(2026, 3, 4), 3)
        row = uow.session.get(ARSnapshot, (AS_OF, "team"))
        assert row is not None
        assert row.total_ar == D("1150.00")
        assert row.days_31_60 == D("550.00")
        assert row.metrics["period_days"] == 90
        direct = metrics_as_of(uow.session, AS_OF, CONFIG).json()
        direct.pop("collectors")
        assert row.metrics == direct
        scopes = set(uow.session.scalars(
            select(ARSnapshot.scope).where(ARSnapshot.snapshot_date == AS_OF)))
        assert scopes == {"team", "member:1"}


def test_job_snapshots_from_the_command_line(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ledger(db)
    for name, value in {"DATABASE_URL": db_url, "SLACK_BOT_TOKEN": SANDBOX_TOKEN,
                        "SLACK_API_URL": slack_sandbox.url}.items():
        monkeypatch.setenv(name, value)
    assert main(["job", "snapshots", "--now", "2026-03-02T00:15:00Z"]) == 0
    assert capsys.readouterr().out.strip() == (
        "snapshots: 365 day(s) stored, 2025-03-02 to 2026-03-01")
    assert main(["job", "snapshots", "--now", "2026-03-02T03:00:00Z"]) == 0
    assert capsys.readouterr().out.strip() == "snapshots: up to date through 2026-03-01"
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(ARSnapshot)) == 365 * 2
