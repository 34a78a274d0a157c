"""The demo: a deterministic synthetic ledger that imports cleanly and tells the aging story."""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import Customer, Invoice, Payment
from bot.demo import DemoResult, generate_demo_ledger, run_demo
from bot.demo.run import import_ledger
from bot.domain.aging import BUCKETS
from bot.services.report import aging_report

TODAY = date(2026, 11, 24)
# Smaller than the demo's 300 / 4,000 so the tests stay fast; the same code paths.
CUSTOMERS = 120
INVOICES = 1500


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[DemoResult, str]:
    out = io.StringIO()
    result = run_demo(tmp_path_factory.mktemp("demo"), today=TODAY, out=out,
                      customers=CUSTOMERS, invoices=INVOICES)
    result.database.dispose()
    return result, out.getvalue()


def test_same_seed_same_files_other_seed_other_ledger(tmp_path: Path) -> None:
    first = generate_demo_ledger(tmp_path / "a", today=TODAY, customers=40, invoices=400)
    again = generate_demo_ledger(tmp_path / "b", today=TODAY, customers=40, invoices=400)
    other = generate_demo_ledger(tmp_path / "c", today=TODAY, seed=8, customers=40, invoices=400)
    for (kind, path), (_, same), (_, different) in zip(
        first.in_import_order(), again.in_import_order(), other.in_import_order(), strict=True
    ):
        assert path.read_bytes() == same.read_bytes(), kind
        if kind != "team":
            assert path.read_bytes() != different.read_bytes(), kind


def test_ledger_has_the_shape_the_brief_asks_for(tmp_path: Path) -> None:
    files = generate_demo_ledger(tmp_path, today=TODAY)
    team = _rows(files.team)
    collectors = [m for m in team if m["role"] == "collector"]
    assert len(collectors) == 3
    assert [m["role"] for m in team].count("manager") == 1
    assert len({m["timezone"] for m in collectors}) == 2
    assert all(15 <= int(m["daily_call_target"]) <= 25 and m["backup"] for m in collectors)

    customers = _rows(files.customers)
    assert len(customers) == 300
    assert len({c["name"] for c in customers}) == 300
    assert {c["tier"] for c in customers} == {"key", "standard", "small"}
    assert 1 <= sum(c["status"] == "on_hold" for c in customers) <= 15
    assert "collector" not in customers[0]

    invoices = _rows(files.invoices)
    assert len(invoices) == 4000
    assert len({i["number"] for i in invoices}) == 4000
    issued = [date.fromisoformat(i["issue_date"]) for i in invoices]
    assert min(issued) >= TODAY - timedelta(days=548) and max(issued) <= TODAY
    settled = [i for i in invoices if i["settled_date"]]
    assert 0.8 < len(settled) / len(invoices) < 0.95
    assert all(i["amount_paid"] == i["amount"] for i in settled)
    assert all(i["issue_date"] <= i["settled_date"] <= TODAY.isoformat() for i in settled)
    late = [i for i in settled if i["settled_date"] > i["due_date"]]
    assert len(late) > len(settled) / 4
    assert 10 <= sum(i["disputed"] == "yes" for i in invoices) <= 200
    assert all(Decimal(i["amount"]) == Decimal(i["amount"]).quantize(Decimal("0.01"))
               for i in invoices)

    payments = _rows(files.payments)
    by_number = {i["number"]: i for i in invoices}
    partial = [p for p in payments if p["invoice_number"]]
    on_account = [p for p in payments if not p["invoice_number"]]
    assert partial and on_account
    assert all(Decimal(p["amount"]) < Decimal(by_number[p["invoice_number"]]["amount"])
               and not by_number[p["invoice_number"]]["settled_date"] for p in partial)
    assert all(p["paid_on"] >= (TODAY - timedelta(days=9)).isoformat() for p in on_account)


def test_bad_sizes_are_refused_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="customers must be 3-5000, not 2"):
        generate_demo_ledger(tmp_path / "x", today=TODAY, customers=2, invoices=10)
    with pytest.raises(ValueError, match=r"invoices \(5\) must be at least customers \(10\)"):
        generate_demo_ledger(tmp_path / "y", today=TODAY, customers=10, invoices=5)
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists()


def test_ledger_imports_without_a_rejected_row(db: Database, tmp_path: Path) -> None:
    files = generate_demo_ledger(tmp_path, today=TODAY, customers=CUSTOMERS, invoices=INVOICES)
    out = io.StringIO()
    reports = import_ledger(db, files, today=TODAY, default_tz=ZoneInfo("UTC"), out=out)
    assert [r.kind for r in reports] == ["team", "customers", "invoices", "payments"]
    for report in reports:
        assert report.committed and report.error_count == 0 and report.counts.rejected == 0
        assert report.counts.created == files.rows[report.kind]
    assert reports[-1].unapplied == 0
    with db.uow() as uow:
        s = uow.session
        assert s.scalar(select(func.count()).select_from(Invoice)) == INVOICES
        assert s.scalar(select(func.count()).where(Customer.collector_id.is_(None))) == 0
        payments = s.scalar(select(func.count()).select_from(Payment))
        assert payments == reports[2].payments_recorded + files.rows["payments"]
    assert "imported: payments.csv" in out.getvalue()


def test_demo_aging_has_every_bucket_and_balanced_books(
    demo_run: tuple[DemoResult, str],
) -> None:
    demo, _ = demo_run
    aging = demo.aging
    assert aging is not None and aging.as_of == TODAY
    overall = aging.overall.buckets
    assert all(overall[b] > 0 for b in BUCKETS)
    # The 120+ tail is present but the smallest of the past-due buckets bar 91-120.
    assert overall[BUCKETS[-1]] < overall[BUCKETS[1]] / 2
    assert [line.name for line in aging.by_collector] == ["Ana Torres", "Ben Whitaker",
                                                         "Chloe Park"]
    books = [line.past_due_ar for line in aging.by_collector]
    mean = sum(books, Decimal(0)) / len(books)
    assert all(abs(book - mean) <= mean / 4 for book in books), books
    assigned = demo.imports[-1].assignment
    assert sum(a.accounts for a in assigned) == CUSTOMERS


def test_demo_prints_each_step(demo_run: tuple[DemoResult, str]) -> None:
    _, output = demo_run
    assert output.index("1. Ledger") < output.index("imported: team.csv")
    assert output.index("imported: invoices.csv") < output.index("imported: payments.csv")
    assert output.index("imported: payments.csv") < output.index("2. Aging")
    assert "assigned to Chloe Park (U0DEMOCHLOE)" in output
    assert f"Aging as of {TODAY.isoformat()}" in output
    assert "Unassigned" not in output


@pytest.mark.slow
def test_demo_command_replaces_an_old_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--dir", str(tmp_path), "--today", TODAY.isoformat()]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    second = capsys.readouterr().out
    # A fresh file each time: the second run creates everything again, nothing "unchanged".
    assert "invoices: 4,000 created, 0 updated, 0 unchanged, 0 rejected" in second
    assert first == second
    database = Database(f"sqlite:///{tmp_path / 'demo.sqlite3'}")
    try:
        with database.uow() as uow:
            report = aging_report(uow.session, TODAY)
    finally:
        database.dispose()
    assert f"{report.total_ar:,.2f}" in second


def test_demo_sends_each_morning_list_once_and_plays_a_morning(
    demo_run: tuple[DemoResult, str],
) -> None:
    _, output = demo_run
    morning = output[output.index("3. Morning call lists"):]
    for name in ("Ana Torres", "Ben Whitaker", "Chloe Park"):
        assert f"── DM to {name}" in morning
    assert "The job run again later that morning: call-lists: 3 already sent" in morning
    played = output[output.index("4. Ana Torres's morning"):output.index("5. Metrics")]
    assert played.count(": HTTP 200") == 4
    assert "Promise to pay recorded for" in played
    assert "4 outcomes in the ledger" in played
    assert "Done 4 of" in played
    assert "✅ Reached — by Ana Torres at 09:02" in played


def test_demo_recap_is_the_metrics_codes_with_its_png(
    demo_run: tuple[DemoResult, str],
) -> None:
    from bot.services.metrics import MetricsConfig, metrics_as_of
    from bot.services.recap import build_recap

    demo, out = demo_run
    assert "7. Weekly recap" in out
    assert "\n61-90 days (since" in out and "held out" in out
    png = demo.files.team.parent / "recap.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000
    database = Database(demo.settings.url)
    try:
        config = MetricsConfig.from_settings(demo.settings)
        as_of = TODAY - timedelta(days=1)
        with database.uow() as uow:
            recap = build_recap(uow.session, as_of, config)
            week = metrics_as_of(uow.session, as_of, config, period_days=7).team
            now = metrics_as_of(uow.session, as_of, config).team
            first = metrics_as_of(uow.session, recap.trend[0].week_ending, config).team
    finally:
        database.dispose()
    kpis = {k.key: k.value for k in recap.kpis}
    assert kpis["dso"] == now.dso and kpis["cei"] == now.cei
    assert kpis["cash_collected"] == week.cash_collected
    assert recap.calls.made == week.calls_made > 0
    assert recap.trend[0].dso == first.dso
    assert sum(c.calls for c in recap.collectors) == week.calls_made


def test_demo_escalates_to_the_manager_and_a_decision_empties_the_next_list(
    demo_run: tuple[DemoResult, str],
) -> None:
    from sqlalchemy import select

    from bot.db.models import AuditEvent, Customer, Escalation
    from bot.domain.vocabulary import EscalationStatus

    result, output = demo_run
    assert output.index("5. Metrics") < output.index("6. Escalations to the manager") \
        < output.index("7. Weekly recap")
    step = output[output.index("6. Escalations"):output.index("7. Weekly recap")]
    assert "── DM to Maya Okafor (U0DEMOMAYA) ──" in step
    assert "[Send to agency]" in step and "HTTP 200" in step
    assert "sent to a collection agency by Maya Okafor" in step and "*" not in step.split(
        "HTTP 200")[1]
    ref = step.split("clicks [Send to agency] on ")[1].split("(")[1].split(")")[0]
    assert f"({ref}) is not on it: it is with the agency." in step
    # The rest, undecided: a reminder in each message's thread two working days on (Thanksgiving
    # is not one), then Maya's manager.
    levels = step[step.index("Nobody decides the rest"):]
    assert "Thu 26 Nov" not in levels
    assert "in the thread of Maya Okafor's message: ⏰ Reminder:" in levels
    assert "up a level, DM to Dana Reyes (U0DEMODANA):" in levels
    assert "⬆️ Escalated to you: not decided by Maya Okafor in 4 working days" in levels
    assert "Maya Okafor's message now says: ⬆️ Went up to Dana Reyes on " in levels
    with result.database.uow() as uow:
        escalation = uow.session.scalars(
            select(Escalation).join(Customer, Customer.id == Escalation.customer_id)
            .where(Customer.external_ref == ref)).one()
        assert escalation.status is EscalationStatus.DECIDED
        audit = uow.session.scalars(select(AuditEvent).where(
            AuditEvent.action == "customer.status_changed",
            AuditEvent.entity_id == str(escalation.customer_id))).one()
        assert audit.actor == "U0DEMOMAYA" and audit.detail is not None
        assert audit.detail["status"] == "agency"


def test_demo_calls_that_end_in_a_promise_record_one_and_the_job_judges_it(
    demo_run: tuple[DemoResult, str],
) -> None:
    """Every simulated promise-to-pay call has its promise (as the modal records one); each
    promise whose date passed is kept or broken by the promises job, against the payments."""
    from bot.db.models import ContactAttempt, PromiseToPay
    from bot.domain.vocabulary import Outcome, PromiseStatus

    result, output = demo_run
    with result.database.uow() as uow:
        s = uow.session
        promised_calls = s.scalars(select(func.count()).select_from(ContactAttempt).where(
            ContactAttempt.source == "demo",
            ContactAttempt.outcome == Outcome.PROMISE_TO_PAY)).one()
        # Not the promise Ana records from the modal this morning (step 4).
        promises = [p for p in s.scalars(select(PromiseToPay)) if p.created_at.date() < TODAY]
        received = {p.customer_id: list(s.scalars(select(Payment.paid_on).where(
            Payment.customer_id == p.customer_id))) for p in promises}
    assert promised_calls == len(promises) > 0
    due = [p for p in promises if p.promised_date < TODAY - timedelta(days=1)]
    assert due and all(p.status is not PromiseStatus.OPEN for p in due)
    for promise in due:
        made = promise.created_at.date()
        paid_in_time = any(made <= day <= promise.promised_date
                           for day in received[promise.customer_id])
        assert (promise.status is PromiseStatus.BROKEN) is not paid_in_time, promise.id
    kept = sum(p.status is PromiseStatus.KEPT for p in promises)
    broken = sum(p.status is PromiseStatus.BROKEN for p in promises)
    assert kept and broken
    recap = output[output.index("Per collector, last week"):]
    assert "promises 0 made, 0 kept, 0 broken" not in recap
