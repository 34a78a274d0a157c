"""`report --as-of` against a ledger whose figures were computed by hand."""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from bot.cli import main
from bot.db import Database
from bot.db.models import Customer, Invoice, Payment, PaymentAllocation, TeamMember
from bot.domain.aging import Bucket, bucket_for
from bot.domain.vocabulary import InvoiceStatus
from bot.services.report import aging_report, bucket_case, render_report, report_json

AS_OF = date(2026, 6, 30)
D = Decimal


def _ledger(db: Database) -> None:
    """Nine invoices; the comment on each is the hand computation as of 2026-06-30."""
    with db.uow() as uow:
        s = uow.session
        ana = TeamMember(slack_user_id="U1ANA", name="Ana")
        ben = TeamMember(slack_user_id="U2BEN", name="Ben")
        s.add_all([ana, ben])
        s.flush()
        c1 = Customer(external_ref="C1", name="Acme", collector_id=ana.id)
        c2 = Customer(external_ref="C2", name="Birch", collector_id=ben.id)
        c3 = Customer(external_ref="C3", name="Cedar")
        s.add_all([c1, c2, c3])
        s.flush()

        def inv(number: str, customer: Customer, issued: date, due: date, amount: str, *,
                paid: str = "0", settled: date | None = None,
                status: InvoiceStatus = InvoiceStatus.OPEN) -> Invoice:
            invoice = Invoice(number=number, customer_id=customer.id, issue_date=issued,
                              due_date=due, amount=D(amount), amount_paid=D(paid),
                              settled_date=settled, status=status)
            s.add(invoice)
            s.flush()
            return invoice

        def pay(ref: str, invoice: Invoice, amount: str, on: date) -> None:
            """A payment and its allocation: amount_paid is the sum of allocations."""
            payment = Payment(external_ref=ref, customer_id=invoice.customer_id,
                              invoice_id=invoice.id, amount=D(amount), paid_on=on)
            s.add(payment)
            s.flush()
            s.add(PaymentAllocation(payment_id=payment.id, invoice_id=invoice.id,
                                    amount=D(amount), applied_on=on))

        # due on the date itself: current, 1000.00
        inv("I1", c1, date(2026, 5, 1), date(2026, 6, 30), "1000.00")
        # 500 less 200 paid before the date: 300.00, 30 days -> 1-30
        i2 = inv("I2", c1, date(2026, 4, 1), date(2026, 5, 31), "500.00", paid="200.00")
        pay("P2", i2, "200.00", date(2026, 6, 15))
        # settled after the date: open in full on it, 800.00, 91 days -> 91-120
        i3 = inv("I3", c2, date(2026, 3, 1), date(2026, 3, 31), "800.00", paid="800.00",
                 settled=date(2026, 7, 10), status=InvoiceStatus.PAID)
        pay("P3", i3, "800.00", date(2026, 7, 10))
        # 150 days -> 120+, 250.50
        inv("I4", c2, date(2026, 1, 1), date(2026, 1, 31), "250.50")
        # issued after the date: not AR yet
        inv("I5", c3, date(2026, 7, 5), date(2026, 8, 4), "999.00")
        # settled before the date: gone
        i6 = inv("I6", c3, date(2026, 2, 1), date(2026, 5, 1), "400.00", paid="400.00",
                 settled=date(2026, 6, 20), status=InvoiceStatus.PAID)
        pay("P6", i6, "400.00", date(2026, 6, 20))
        # partly paid after the date: open in full, 1234.56, 46 days -> 31-60
        i7 = inv("I7", c3, date(2026, 4, 15), date(2026, 5, 15), "1234.56", paid="234.56")
        pay("P7", i7, "234.56", date(2026, 7, 1))
        # void: never AR
        inv("I8", c1, date(2026, 3, 20), date(2026, 4, 20), "700.00", status=InvoiceStatus.VOID)
        # 77 days -> 61-90, 90.00
        inv("I9", c2, date(2026, 3, 15), date(2026, 4, 14), "90.00")
        uow.commit()


def test_report_as_of_matches_hand_computation(db: Database) -> None:
    _ledger(db)
    with db.uow() as uow:
        report = aging_report(uow.session, AS_OF)
    assert report.overall.buckets == {
        Bucket.CURRENT: D("1000.00"),
        Bucket.DAYS_1_30: D("300.00"),
        Bucket.DAYS_31_60: D("1234.56"),
        Bucket.DAYS_61_90: D("90.00"),
        Bucket.DAYS_91_120: D("800.00"),
        Bucket.DAYS_120_PLUS: D("250.50"),
    }
    assert report.total_ar == D("3675.06")
    assert report.past_due_ar == D("2675.06")
    assert report.overall.open_invoices == 6
    by_name = {line.name: line for line in report.by_collector}
    assert [line.name for line in report.by_collector] == ["Ana", "Ben", "Unassigned"]
    assert by_name["Ana"].total_ar == D("1300.00")
    assert by_name["Ana"].past_due_ar == D("300.00")
    assert by_name["Ben"].total_ar == D("1140.50")
    assert by_name["Ben"].buckets[Bucket.DAYS_91_120] == D("800.00")
    assert by_name["Unassigned"].buckets[Bucket.DAYS_31_60] == D("1234.56")


def test_report_after_everything_settles(db: Database) -> None:
    _ledger(db)
    with db.uow() as uow:
        report = aging_report(uow.session, date(2026, 7, 31))
    # I1 500+... : I1 1000 (31 days -> 31-60), I2 300 (61 days), I4 250.50 (181 days),
    # I5 999 (current), I7 1000.00 after the 234.56 payment (77 days), I9 90 (108 days).
    assert report.overall.buckets == {
        Bucket.CURRENT: D("999.00"),
        Bucket.DAYS_1_30: D("0.00"),
        Bucket.DAYS_31_60: D("1000.00"),
        Bucket.DAYS_61_90: D("1300.00"),
        Bucket.DAYS_91_120: D("90.00"),
        Bucket.DAYS_120_PLUS: D("250.50"),
    }


def test_empty_ledger_reports_zero(db: Database) -> None:
    with db.uow() as uow:
        report = aging_report(uow.session, AS_OF)
    assert report.total_ar == D("0.00")
    assert report.by_collector == []
    assert "Total AR 0.00" in render_report(report)


def test_sql_bucket_agrees_with_domain_bucket(db: Database) -> None:
    with db.uow() as uow:
        customer = Customer(external_ref="X", name="X")
        uow.session.add(customer)
        uow.session.flush()
        dues = [AS_OF + timedelta(days=offset) for offset in range(-200, 5)]
        for n, due in enumerate(dues):
            uow.session.add(Invoice(number=f"B{n}", customer_id=customer.id,
                                    issue_date=due - timedelta(days=30), due_date=due,
                                    amount=D("1.00")))
        uow.session.flush()
        rows = uow.session.execute(
            select(Invoice.due_date, bucket_case(Invoice.due_date, AS_OF))
        ).all()
    assert len(rows) == len(dues)
    for due, bucket in rows:
        assert bucket == bucket_for(due, AS_OF).value, due


def test_cli_report_json_has_stable_keys(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _ledger(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "--as-of", "2026-06-30", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["as_of"] == "2026-06-30"
    assert out["total_ar"] == "3675.06"
    assert out["past_due_ar"] == "2675.06"
    assert list(out["buckets"]) == ["current", "1-30", "31-60", "61-90", "91-120", "120+"]
    assert out["buckets"]["91-120"] == "800.00"
    assert [c["slack_user_id"] for c in out["collectors"]] == ["U1ANA", "U2BEN", None]
    with db.uow() as uow:
        aging = {key: value for key, value in out.items() if key != "metrics"}
        assert report_json(aging_report(uow.session, AS_OF)) == aging


def test_cli_report_rejects_a_bad_date(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", "--as-of", "30/06/2026"])
    assert exit_info.value.code == 2
    assert "not a date (YYYY-MM-DD): '30/06/2026'" in capsys.readouterr().err
