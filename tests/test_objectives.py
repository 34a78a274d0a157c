"""Objectives: targets, baselines, progress, and the activity plan on a hand-made history."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.db.models import (
    ContactAttempt,
    Customer,
    Invoice,
    Objective,
    Payment,
    PaymentAllocation,
    TeamMember,
)
from bot.domain.activity_plan import calls_per_day, learn_cash_per_call, money_needed
from bot.domain.aging import Bucket
from bot.domain.metrics import LedgerFacts
from bot.domain.objectives import (
    OBJECTIVE_METRICS,
    Target,
    parse_target,
    project_trend,
    status_of,
)
from bot.domain.vocabulary import InvoiceStatus, Outcome
from bot.services import metrics as metrics_module
from bot.services import objectives as objectives_module
from bot.services.metrics import MetricsConfig
from bot.services.objectives import (
    ObjectiveError,
    add_objective,
    close_objective,
    objective_progress,
    objectives_progress,
)

D = Decimal
AS_OF = date(2026, 6, 30)  # a Tuesday
CONFIG = MetricsConfig(zone=ZoneInfo("UTC"), country="US")


def test_parse_target() -> None:
    assert parse_target("-5%", "dso") == Target(change_pct=D(-5))
    assert parse_target("+10%", "cei") == Target(change_pct=D(10))
    assert parse_target("45", "dso") == Target(absolute=D(45))
    assert parse_target("$250,000", "cash_collected") == Target(absolute=D(250000))
    assert Target(change_pct=D(-5)).resolve(D("93.00")) == D("88.35")
    assert Target(change_pct=D(-5)).resolve(None) is None
    for text, metric, message in [
        ("-5%", "nope", "unknown metric 'nope'"),
        ("fast", "dso", "not a target: 'fast'"),
        ("-5%", "cash_collected", "summed from the start date"),
        ("-100%", "dso", "leaves nothing"),
        ("-45", "dso", "cannot be negative"),
    ]:
        with pytest.raises(ValueError, match=message):
            parse_target(text, metric)


def test_trend_projection_and_status() -> None:
    start = date(2026, 6, 1)
    points = [(start + timedelta(days=n), D(90) - n * D("0.5")) for n in range(10)]
    # 0.5 days of DSO a day: 90 on day 0, 75 on day 30.
    assert project_trend(points, start + timedelta(days=30)) == D("75.00")
    assert project_trend(points[:1], start) is None
    dso = OBJECTIVE_METRICS["dso"]
    kwargs = {"as_of": start + timedelta(days=9), "start": start,
              "end": start + timedelta(days=30), "now": D("85.5")}
    assert status_of(dso, target=D(80), projected=D(75), **kwargs) == "on track"
    assert status_of(dso, target=D(70), projected=D(75), **kwargs) == "behind"
    early = {**kwargs, "as_of": start - timedelta(days=1)}
    assert status_of(dso, target=D(70), projected=None, **early) == "not started"


def test_plan_formula_by_hand() -> None:
    facts = LedgerFacts(ending={Bucket.CURRENT: D(1500), Bucket.DAYS_31_60: D(3000)},
                        credit_sales=D(4500))
    # 4,500 sold in 90 days: 50 a day; DSO 30 needs AR of 1,500, from 4,500.
    assert money_needed("dso", D(30), facts, 90) == D("3000.00")
    # ADD 20 needs past due of 1,000, from 3,000.
    assert money_needed("add", D(20), facts, 90) == D("2000.00")
    # 60% current needs past due of 1,500 × 40 / 60 = 1,000.
    assert money_needed("percent_current", D(60), facts, 90) == D("2000.00")
    assert money_needed("cash_collected", D(500), facts, 90, collected_so_far=D(800)) == D("0.00")
    assert money_needed("promise_kept_rate", D(90), facts, 90) is None
    assert calls_per_day(D(3000), D(60), 8) == 7  # 6.25 rounded up
    assert calls_per_day(D(3000), D(60), 0) is None
    learned = learn_cash_per_call([(Bucket.DAYS_31_60, D(120))] * 30
                                  + [(Bucket.DAYS_31_60, D(0))] * 30,
                                  dict.fromkeys(Bucket, D(5)))
    assert learned.by_bucket[Bucket.DAYS_31_60] == D("60.00")
    assert learned.by_bucket[Bucket.DAYS_61_90] == D(5)  # too few calls: the default
    assert learned.learned == {Bucket.DAYS_31_60}


def _history(db: Database) -> None:
    """Ana's book today: 3,000 in 31-60 and 1,500 current, all sold in the last 90 days.
    In April, 60 calls on accounts 35 days past due: 30 followed by 120 paid within 30 days,
    30 by nothing. In the last five working days Ana made 15 calls."""
    with db.uow() as uow:
        s = uow.session
        ana = TeamMember(slack_user_id="UANA", name="Ana", daily_call_target=20)
        ben = TeamMember(slack_user_id="UBEN", name="Ben", daily_call_target=15)
        s.add_all([ana, ben])
        s.flush()
        c1, c2, c3 = (Customer(external_ref=f"C{n}", name=f"C{n}", collector_id=owner)
                      for n, owner in ((1, ana.id), (2, ben.id), (3, ben.id)))
        s.add_all([c1, c2, c3])
        s.flush()
        invoices = [
            Invoice(number="I1", customer_id=c1.id, issue_date=date(2026, 4, 20),
                    due_date=date(2026, 5, 20), amount=D(3000)),
            Invoice(number="I2", customer_id=c1.id, issue_date=date(2026, 6, 10),
                    due_date=date(2026, 7, 10), amount=D(1500)),
            Invoice(number="I3", customer_id=c2.id, issue_date=date(2026, 2, 1),
                    due_date=date(2026, 3, 1), amount=D(120), amount_paid=D(120),
                    status=InvoiceStatus.PAID, settled_date=date(2026, 4, 15)),
            Invoice(number="I4", customer_id=c3.id, issue_date=date(2026, 2, 1),
                    due_date=date(2026, 3, 1), amount=D(100), amount_paid=D(100),
                    status=InvoiceStatus.PAID, settled_date=date(2026, 6, 5)),
        ]
        s.add_all(invoices)
        s.flush()
        for ref, customer, invoice, amount, day in (
                ("P3", c2, invoices[2], D(120), date(2026, 4, 15)),
                ("P4", c3, invoices[3], D(100), date(2026, 6, 5))):
            payment = Payment(external_ref=ref, customer_id=customer.id, amount=amount,
                              paid_on=day)
            s.add(payment)
            s.flush()
            s.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id,
                                    amount=amount, applied_on=day))
        april = datetime(2026, 4, 5, 15, 0, tzinfo=UTC)
        for n in range(30):
            for customer in (c2, c3):
                s.add(ContactAttempt(customer_id=customer.id, collector_id=ben.id,
                                     at=april + timedelta(minutes=n), outcome=Outcome.NO_ANSWER,
                                     source="button"))
        for day, calls in ((date(2026, 6, 24), 5), (date(2026, 6, 29), 10)):
            for n in range(calls):
                s.add(ContactAttempt(customer_id=c1.id, collector_id=ana.id,
                                     at=datetime.combine(day, datetime.min.time(), UTC)
                                     + timedelta(hours=14, minutes=n),
                                     outcome=Outcome.REACHED, source="button"))
        uow.commit()


def test_activity_plan_on_a_hand_made_history(db: Database) -> None:
    _history(db)
    with db.uow() as uow:
        add_objective(uow.session, metric="dso", target="30", start=date(2026, 6, 1),
                      end=date(2026, 7, 10), today=AS_OF, config=CONFIG)
        uow.commit()
        [progress] = objectives_progress(uow.session, AS_OF, CONFIG)
    # DSO today: 4,500 / 4,500 × 90 = 90; target 30 at 50 of sales a day: AR 1,500.
    assert progress.now == D("90.00")
    plan = progress.plan
    assert plan.money_needed == D("3000.00")
    assert plan.cash_per_call == D("60.00")  # (30 × 120 + 30 × 0) / 60, all 31-60 today
    assert plan.learned
    # Jun 30, Jul 1, 2, 6-10: July 3 is Independence Day observed.
    assert plan.working_days_left == 8
    assert plan.needed == 7  # 3000 / 60 / 8 = 6.25
    assert plan.planned == 35
    assert plan.made == D("3.00")  # 15 calls over Jun 23-26 and 29


def test_baseline_is_measured_on_the_start_date(db: Database) -> None:
    _history(db)
    with db.uow() as uow:
        objective = add_objective(uow.session, metric="dso", target="-5%",
                                  start=date(2026, 6, 1), end=date(2026, 7, 31), today=AS_OF,
                                  config=CONFIG, note="quarter push")
        # On June 1: AR 3,000 (I1) + 100 (I4, settled June 5); sales 3,000 → 93 days.
        assert objective.baseline == D("93.00")
        future = add_objective(uow.session, metric="cei", target="+5%", start=date(2026, 8, 1),
                               end=date(2026, 9, 30), today=AS_OF, config=CONFIG)
        assert future.baseline is None
        uow.commit()
        items = objectives_progress(uow.session, AS_OF, CONFIG)
    assert items[0].target == D("88.35")
    assert items[0].status == "behind"  # 90 now against 88.35, and no trend yet
    assert items[1].status == "not started"


def test_objectives_on_one_day_share_its_ledger_facts(db: Database,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Three stock objectives and the plan read the day's ledger facts once, and each gets the
    value it gets alone."""
    _history(db)
    with db.uow() as uow:
        for metric in ("dso", "cei", "percent_current"):
            add_objective(uow.session, metric=metric, target="+5%", start=date(2026, 6, 1),
                          end=date(2026, 7, 31), today=AS_OF, config=CONFIG)
        uow.commit()
        alone = [objective_progress(uow.session, o, AS_OF, CONFIG).now
                 for o in uow.session.scalars(select(Objective).order_by(Objective.id))]
        days: list[date] = []
        real = objectives_module.ledger_facts_as_of

        def counted(session: object, day: date, *args: object) -> object:
            days.append(day)
            return real(session, day, *args)  # type: ignore[arg-type]

        monkeypatch.setattr(objectives_module, "ledger_facts_as_of", counted)
        monkeypatch.setattr(metrics_module, "ledger_facts_as_of", counted)
        items = objectives_progress(uow.session, AS_OF, CONFIG)
    assert [item.now for item in items] == alone
    assert None not in alone
    assert days == [AS_OF]


def test_bad_objectives_are_refused(db: Database) -> None:
    with db.uow() as uow:
        for kwargs, message in [
            ({"start": date(2026, 7, 1), "end": date(2026, 6, 1)}, "before the start"),
            ({"start": date(2026, 1, 1), "end": date(2026, 2, 1)}, "has passed"),
        ]:
            with pytest.raises(ObjectiveError, match=message):
                add_objective(uow.session, metric="dso", target="-5%", today=AS_OF,
                              config=CONFIG, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(ObjectiveError, match="COLLECTBOT_COLLECTOR_DAY_COST"):
            add_objective(uow.session, metric="cost_of_collecting", target="5000",
                          start=AS_OF, end=AS_OF, today=AS_OF, config=CONFIG)
        with pytest.raises(ObjectiveError, match="no objective 9"):
            close_objective(uow.session, 9, now=datetime.now(UTC))


def test_objective_cli(db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
                       capsys: pytest.CaptureFixture[str]) -> None:
    _history(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COLLECTBOT_COLLECTOR_DAY_COST", "200")
    assert main(["objective", "add", "--metric", "dso", "--target", "-5%", "--from",
                 "2026-06-01", "--to", "2026-07-31", "--today", "2026-06-30"]) == 0
    out = capsys.readouterr().out
    assert "Objective #1 added." in out
    assert "93.0 days → 90.0 days → 88.4 days" in out  # 88.35 shown to one place
    assert main(["objective", "add", "--metric", "cost_of_collecting", "--target", "50000",
                 "--from", "2026-06-01", "--to", "2026-07-31", "--today", "2026-06-30"]) == 0
    capsys.readouterr()
    assert main(["objective", "list", "--as-of", "2026-06-30", "--json"]) == 0
    items = json.loads(capsys.readouterr().out)
    assert [i["metric"] for i in items] == ["dso", "cost_of_collecting"]
    assert items[0]["plan"]["calls_planned"] == 35
    # The spend so far: 2 collectors × 21 working days of June (Juneteenth off) × 200.
    assert items[1]["now"] == "8400.00"
    assert items[1]["plan"]["calls_needed"] is None
    assert main(["objective", "close", "1"]) == 0
    assert main(["objective", "close", "1"]) == 2
    assert "already closed" in capsys.readouterr().err
    assert main(["objective", "list", "--as-of", "2026-06-30"]) == 0
    assert "#1" not in capsys.readouterr().out
