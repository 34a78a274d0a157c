"""The ledger's rules on both engines: payments are the record of money received, allocated to
invoices; an invoice's amount paid is always the sum of its allocations; no import silently
reverses a payment; figures as of a past date never move; unlike currencies are never added."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, func, select

from bot.cli import main
from bot.db import Database
from bot.db.migrate import alembic_config, upgrade
from bot.db.models import (
    AuditEvent,
    Base,
    ContactAttempt,
    Customer,
    Invoice,
    Payment,
    PaymentAllocation,
    PromiseToPay,
)
from bot.db.scratch import scratch_schema
from bot.domain.vocabulary import InvoiceStatus, Outcome
from bot.importer import ImportReport, import_file
from bot.services.accounts import account_summary
from bot.services.call_list_queries import load_account_states
from bot.services.report import aging_report, render_report, report_json
from handlers.commands.collect import run_collect
from tests.conftest import PG_SKIP_REASON, PG_URL
from tests.service_seed import NOW, TODAY, seed

D = Decimal
DAY1 = date(2026, 3, 1)
DAY2 = date(2026, 3, 10)
INVOICES = """number,customer_ref,issue_date,due_date,amount,amount_paid
I1,C1,2026-01-01,2026-01-31,1000.00,0
I2,C1,2026-01-15,2026-02-14,500.00,0
"""


def _import(db: Database, tmp_path: Path, kind: str, body: str, *, today: date = DAY1,
            **kwargs: Any) -> ImportReport:
    path = tmp_path / f"{kind}.csv"
    path.write_text(body, encoding="utf-8")
    return import_file(db, kind, path, today=today, default_tz="UTC", assign=False,
                       **kwargs)


def _report(db: Database, as_of: date) -> dict[str, Any]:
    with db.uow() as uow:
        return report_json(aging_report(uow.session, as_of))


def _assert_ledger_balances(db: Database) -> None:
    """Every invoice's amount paid is the sum of its allocations; no positive payment gave
    away more than it held; no allocation predates its payment."""
    with db.uow() as uow:
        s = uow.session
        allocated = dict(s.execute(
            select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount))
            .group_by(PaymentAllocation.invoice_id)).tuples().all())
        for invoice in s.scalars(select(Invoice)):
            assert invoice.amount_paid == D(allocated.get(invoice.id, 0)), invoice.number
            assert (invoice.status is InvoiceStatus.PAID) == (
                invoice.amount_paid >= invoice.amount), invoice.number
        given = dict(s.execute(
            select(PaymentAllocation.payment_id, func.sum(PaymentAllocation.amount))
            .group_by(PaymentAllocation.payment_id)).tuples().all())
        for payment in s.scalars(select(Payment)):
            part = D(given.get(payment.id, 0))
            if payment.amount > 0:
                assert D(0) <= part <= payment.amount, payment.external_ref
            else:
                assert part == payment.amount, payment.external_ref
        early = s.scalar(
            select(func.count()).select_from(PaymentAllocation)
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .where(PaymentAllocation.applied_on < Payment.paid_on))
        assert early == 0


# 1. Re-importing an export never silently reverses recorded payments.

def test_an_older_invoice_export_keeps_recorded_payments(db: Database, tmp_path: Path) -> None:
    _import(db, tmp_path, "invoices", INVOICES)
    paid = _import(db, tmp_path, "payments",
                   "external_ref,customer_ref,amount,paid_on\nP1,C1,1200,2026-02-20\n")
    assert paid.ok and paid.invoices_settled == 1
    before = _report(db, DAY2)
    again = _import(db, tmp_path, "invoices", INVOICES, today=DAY2)
    assert again.ok and again.committed
    assert again.kept_payments_count == 2 and again.payments_reversed == 0
    assert (again.open_balance, again.past_due_balance) == (D("300.00"), D("300.00"))
    text = again.render()
    assert "2 invoice(s) show less paid than the payments the ledger records" in text
    assert "invoice I1: export 0.00 paid, ledger 1,000.00" in text
    assert "--reverse-payments" in text
    with db.uow() as uow:
        invoices = {i.number: i for i in uow.session.scalars(select(Invoice))}
        audit = uow.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "import")
            .order_by(AuditEvent.id.desc())).first()
    assert invoices["I1"].amount_paid == D("1000.00")
    assert invoices["I1"].status is InvoiceStatus.PAID
    assert invoices["I1"].settled_date == date(2026, 2, 20)
    assert invoices["I2"].amount_paid == D("200.00")
    assert audit is not None and audit.detail is not None
    assert audit.detail["payments_kept"] == 2
    assert _report(db, DAY2) == before
    _assert_ledger_balances(db)
    # The payments file again changes nothing: it never had to repair anything.
    repeat = _import(db, tmp_path, "payments",
                     "external_ref,customer_ref,amount,paid_on\nP1,C1,1200,2026-02-20\n")
    assert repeat.counts.unchanged == 1 and _report(db, DAY2) == before


def test_reverse_payments_records_a_dated_reversal(db: Database, tmp_path: Path) -> None:
    paid = INVOICES.replace("1000.00,0", "1000.00,1000.00")
    first = _import(db, tmp_path, "invoices", paid)
    assert first.payments_recorded == 1
    before = _report(db, DAY2 - timedelta(days=1))
    bounced = _import(db, tmp_path, "invoices", INVOICES, today=DAY2, reverse_payments=True)
    assert bounced.ok and bounced.payments_reversed == 1
    assert bounced.reversed_amount == D("1000.00") and bounced.kept_payments_count == 0
    assert "payments reversed (--reverse-payments): 1, $1,000.00" in bounced.render()
    with db.uow() as uow:
        reversal = uow.session.scalars(
            select(Payment).where(Payment.external_ref == "rev:I1:0.00")).one()
        i1 = uow.session.scalars(select(Invoice).where(Invoice.number == "I1")).one()
        assert (reversal.amount, reversal.paid_on) == (D("-1000.00"), DAY2)
        assert (i1.amount_paid, i1.status, i1.settled_date) == (D("0.00"), InvoiceStatus.OPEN,
                                                                None)
    # Dated the day it was recorded: every figure before it stands.
    assert _report(db, DAY2 - timedelta(days=1)) == before
    assert _report(db, DAY2)["total_ar"] == "1500.00"
    # The same file again reverses nothing more; paid again later is a payment of its own.
    again = _import(db, tmp_path, "invoices", INVOICES, today=DAY2, reverse_payments=True)
    assert again.payments_reversed == 0 and again.counts.unchanged == 2
    repaid = _import(db, tmp_path, "invoices", paid, today=date(2026, 3, 20))
    assert repaid.payments_recorded == 1
    with db.uow() as uow:
        refs = sorted(uow.session.scalars(select(Payment.external_ref)))
    assert refs == ["inv:I1:1000.00", "inv:I1:1000.00#2", "rev:I1:0.00"]
    _assert_ledger_balances(db)


def test_an_amount_below_recorded_payments_is_refused(db: Database, tmp_path: Path) -> None:
    _import(db, tmp_path, "invoices", INVOICES.replace("500.00,0", "500.00,400.00"))
    smaller = INVOICES.replace("500.00,0", "300.00,0")
    report = _import(db, tmp_path, "invoices", smaller, today=DAY2)
    assert not report.ok and not report.committed
    assert [str(e) for e in report.errors] == [
        "line 3, column amount: invoice I2: the ledger has 400.00 in payments on it, more than "
        "the amount 300.00; to reverse payments (a bounced cheque) import with "
        "--reverse-payments"]
    assert _import(db, tmp_path, "invoices", smaller, today=DAY2, reverse_payments=True).ok
    _assert_ledger_balances(db)


# 2. Allocations: a payment spread over invoices keeps every earlier figure.

def test_a_spread_payment_leaves_earlier_figures_as_they_were(
    db: Database, tmp_path: Path
) -> None:
    _import(db, tmp_path, "invoices", INVOICES)
    before = {day: _report(db, day) for day in (date(2026, 2, 1), date(2026, 2, 24))}
    _import(db, tmp_path, "payments",
            "external_ref,customer_ref,amount,paid_on\nP1,C1,1200,2026-02-25\n", today=DAY2)
    assert {day: _report(db, day) for day in before} == before
    after = _report(db, date(2026, 2, 25))
    assert (after["total_ar"], after["open_invoices"]) == ("300.00", 1)
    with db.uow() as uow:
        split = sorted(uow.session.execute(
            select(Invoice.number, PaymentAllocation.amount, PaymentAllocation.applied_on)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)).tuples())
    assert split == [("I1", D("1000.00"), date(2026, 2, 25)),
                     ("I2", D("200.00"), date(2026, 2, 25))]
    _assert_ledger_balances(db)


def test_amounts_paid_at_first_import_are_dated_settled_else_the_import_day(
    db: Database, tmp_path: Path
) -> None:
    body = """number,customer_ref,issue_date,due_date,amount,amount_paid,settled_date
I1,C1,2026-01-01,2026-01-31,1000.00,,2026-02-10
I2,C1,2026-01-15,2026-02-14,500.00,100,
"""
    _import(db, tmp_path, "invoices", body)
    with db.uow() as uow:
        dated = sorted(uow.session.execute(
            select(Invoice.number, PaymentAllocation.amount, PaymentAllocation.applied_on)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)).tuples())
    assert dated == [("I1", D("1000.00"), date(2026, 2, 10)), ("I2", D("100.00"), DAY1)]
    # Before the settled date I1 was open; I2's 100 counts from the import day on.
    assert _report(db, date(2026, 2, 9))["total_ar"] == "1500.00"
    assert _report(db, date(2026, 2, 28))["total_ar"] == "500.00"
    assert _report(db, DAY1)["total_ar"] == "400.00"


@pytest.mark.slow
@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(
    st.one_of(
        st.tuples(st.just("invoices"),
                  st.lists(st.sampled_from(["0", "100", "250", "600", "1000", "settled"]),
                           min_size=3, max_size=3),
                  st.booleans()),
        st.tuples(st.just("payments"), st.sampled_from(["", "I1", "I2", "I3"]),
                  st.sampled_from(["50", "300", "700", "2500"])),
    ),
    min_size=1, max_size=5,
))
def test_random_imports_keep_the_ledger_balanced_and_the_past_fixed(
    db: Database, tmp_path: Path, steps: list[tuple[Any, ...]]
) -> None:
    """Any sequence of invoice exports (some asking for reversals) and payments, each dated
    a later day: amount paid is always the sum of allocations, and every figure as of a day
    before a step is what it was before that step."""
    with db.uow() as uow:
        for model in (PaymentAllocation, Payment, PromiseToPay, Invoice, Customer):
            uow.session.execute(delete(model))
        uow.commit()
    amounts = ("1000.00", "600.00", "250.00")
    header = "number,customer_ref,issue_date,due_date,amount,amount_paid,settled_date\n"
    _import(db, tmp_path, "invoices", header + "".join(
        f"I{n},C1,2026-01-0{n},2026-01-2{n},{amount},0,\n"
        for n, amount in enumerate(amounts, start=1)))
    watched = (date(2026, 1, 15), date(2026, 2, 15))
    for k, step in enumerate(steps):
        day = DAY1 + timedelta(days=5 * (k + 1))
        earlier = [*watched, day - timedelta(days=1)]
        before = {d: _report(db, d) for d in earlier}
        if step[0] == "invoices":
            _, paid, reverse = step
            rows = []
            for n, (amount, value) in enumerate(zip(amounts, paid, strict=True), start=1):
                cells = ((amount, day.isoformat()) if value == "settled"
                         else (min(D(value), D(amount)), ""))
                rows.append(f"I{n},C1,2026-01-0{n},2026-01-2{n},{amount},{cells[0]},"
                            f"{cells[1]}\n")
            report = _import(db, tmp_path, "invoices", header + "".join(rows), today=day,
                             reverse_payments=reverse, skip_invalid=True)
        else:
            _, number, amount = step
            report = _import(db, tmp_path, "payments",
                             "external_ref,customer_ref,invoice_number,amount,paid_on\n"
                             f"P{k},C1,{number},{amount},{day.isoformat()}\n", today=day)
        assert report.committed, report.render()
        _assert_ledger_balances(db)
        assert {d: _report(db, d) for d in earlier} == before


# 3. One currency per ledger.

def test_another_currency_is_refused_per_row(db: Database, tmp_path: Path) -> None:
    body = """number,customer_ref,issue_date,due_date,amount,currency
I1,C1,2026-01-01,2026-01-31,1000.00,USD
I2,C1,2026-01-15,2026-02-14,500.00,EUR
I3,C2,2026-01-20,2026-03-20,30000,jpy
"""
    report = _import(db, tmp_path, "invoices", body)
    assert not report.committed
    assert [str(e) for e in report.errors] == [
        "line 3, column currency: EUR is not the ledger's currency USD (COLLECTBOT_CURRENCY): "
        "amounts in unlike currencies are never added together",
        "line 4, column currency: JPY is not the ledger's currency USD (COLLECTBOT_CURRENCY): "
        "amounts in unlike currencies are never added together",
    ]
    with db.uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(Invoice)) == 0
    euro = _import(db, tmp_path, "invoices", body.replace(",USD", ",EUR"), currency="EUR",
                   skip_invalid=True)
    assert euro.committed and euro.counts.created == 2 and euro.counts.rejected == 1
    payments = _import(db, tmp_path, "payments",
                       "external_ref,customer_ref,amount,paid_on,currency\n"
                       "P1,C1,10,2026-02-01,EUR\nP2,C1,10,2026-02-01,USD\n", currency="EUR")
    assert [e.line for e in payments.errors] == [3] and not payments.committed
    with db.uow() as uow:
        report_eur = aging_report(uow.session, DAY1, "EUR")
        report_usd = aging_report(uow.session, DAY1, "USD")
    assert (report_eur.currency, report_eur.total_ar) == ("EUR", D("1500.00"))
    assert report_usd.total_ar == D("0.00")  # never EUR counted as dollars


def test_the_currency_setting_is_checked(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "i.csv"
    path.write_text(INVOICES.replace("amount_paid", "amount_paid,currency")
                    .replace(",0\n", ",0,eur\n"), encoding="utf-8")
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("COLLECTBOT_CURRENCY", "eur")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 0
    assert main(["report", "--as-of", "2026-03-01", "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out[out.index("{"):])["currency"] == "EUR"
    monkeypatch.setenv("COLLECTBOT_CURRENCY", "euros")
    assert main(["report"]) == 2
    assert "COLLECTBOT_CURRENCY: not a 3-letter currency code: 'euros'" in capsys.readouterr().err


# 10. Payments larger than what they can settle: credit on the customer, shown and warned.

def test_unapplied_credit_is_kept_shown_and_used_by_a_later_rise(
    db: Database, tmp_path: Path
) -> None:
    _import(db, tmp_path, "invoices", INVOICES)
    report = _import(db, tmp_path, "payments",
                     "external_ref,customer_ref,amount,paid_on\nP1,C1,1800,2026-02-20\n")
    assert report.unapplied == D("300.00") and report.credit_customers == 1
    assert ("warning: $300.00 of payments is more than the open invoices it could settle; "
            "kept as unapplied credit on 1 customer(s)") in report.render()
    figures = _report(db, DAY1)
    assert figures["unapplied_credit"] == "300.00" and figures["total_ar"] == "0.00"
    assert [c["unapplied_credit"] for c in figures["collectors"]] == ["300.00"]
    assert _report(db, date(2026, 2, 19))["unapplied_credit"] == "0.00"
    with db.uow() as uow:
        text = render_report(aging_report(uow.session, DAY1))
        customer = uow.session.scalars(select(Customer).where(Customer.external_ref == "C1")).one()
        assert account_summary(uow.session, customer.id, today=DAY1).unapplied_credit == D("300")
    assert "Unapplied credit 300.00" in text
    # The billing system applies the credit to a new invoice: no new money is invented.
    newer = INVOICES + "I3,C1,2026-03-01,2026-03-31,400.00,300.00\n"
    rise = _import(db, tmp_path, "invoices", newer, today=DAY2)
    assert rise.credit_applied == D("300.00") and rise.payments_recorded == 0
    assert _report(db, DAY2)["unapplied_credit"] == "0.00"
    assert _report(db, DAY2)["total_ar"] == "100.00"
    assert _report(db, DAY1)["unapplied_credit"] == "300.00"  # as it was that day
    _assert_ledger_balances(db)


def test_the_account_view_shows_unapplied_credit(db: Database, tmp_path: Path) -> None:
    seed(db)
    with db.uow() as uow:
        acme = uow.session.scalars(select(Customer).where(Customer.external_ref == "C-1001")).one()
        open_balance = account_summary(uow.session, acme.id, today=NOW.date()).open_balance
    extra = open_balance + D("75")
    _import(db, tmp_path, "payments", "external_ref,customer_ref,amount,paid_on\n"
            f"P1,C-1001,{extra},{NOW.date().isoformat()}\n", today=NOW.date())
    reply = run_collect(db, user_id="UALICE", text="account C-1001", now=NOW, default_tz="UTC")
    assert "unapplied credit $75" in reply.text


# Migration 0002 backfills allocations of a ledger recorded before them.

@pytest.fixture(params=["sqlite", "postgresql"])
def bare_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no schema yet) on each engine."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/old.sqlite3"
        return
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url, drop = scratch_schema(PG_URL, prefix="m")
    yield url
    drop()


def test_migration_backfills_allocations(bare_url: str) -> None:
    database = Database(bare_url)
    upgrade(database.engine, "0004")
    # A scratch PostgreSQL schema comes migrated to head: step back (0002's downgrade).
    command.downgrade(alembic_config(database.engine), "0004")
    tables = Base.metadata.tables
    stamp = datetime(2026, 2, 27, 12, 0, tzinfo=UTC)
    with database.engine.begin() as conn:
        conn.execute(tables["customers"].insert(), [
            {"id": 1, "external_ref": "C1", "name": "Acme", "tier": "standard",
             "status": "active", "created_at": stamp, "updated_at": stamp},
            {"id": 2, "external_ref": "C2", "name": "Birch", "tier": "standard",
             "status": "active", "created_at": stamp, "updated_at": stamp}])

        def invoice(id_: int, customer: int, due: date, amount: str, paid: str, *,
                    settled: date | None = None) -> dict[str, Any]:
            return {"id": id_, "number": f"I{id_}", "customer_id": customer,
                    "issue_date": date(2026, 1, 1), "due_date": due, "amount": D(amount),
                    "amount_paid": D(paid), "currency": "USD",
                    "status": "paid" if paid == amount else "open", "settled_date": settled,
                    "disputed": False, "created_at": stamp, "updated_at": stamp}

        conn.execute(tables["invoices"].insert(), [
            invoice(1, 1, date(2026, 2, 1), "1000.00", "1000.00", settled=date(2026, 2, 10)),
            invoice(2, 1, date(2026, 2, 14), "500.00", "300.00"),
            invoice(3, 1, date(2026, 3, 1), "200.00", "200.00", settled=date(2026, 2, 20)),
            invoice(4, 2, date(2026, 2, 1), "700.00", "250.00")])

        def payment(id_: int, invoice_id: int | None, amount: str, on: date) -> dict[str, Any]:
            return {"external_ref": f"P{id_}", "customer_id": 1,
                    "invoice_id": invoice_id, "amount": D(amount), "paid_on": on,
                    "method": None, "created_at": stamp}

        conn.execute(tables["payments"].insert(), [
            payment(1, 1, "1000.00", date(2026, 2, 10)),
            payment(2, None, "500.00", date(2026, 2, 20)),  # spread over I2 and I3
            payment(3, None, "100.00", date(2026, 2, 25))])  # nothing left to pay: credit
    database.upgrade()
    _assert_ledger_balances(database)
    with database.uow() as uow:
        split = sorted(uow.session.execute(
            select(Payment.external_ref, Invoice.number, PaymentAllocation.amount,
                   PaymentAllocation.applied_on)
            .join(Payment, Payment.id == PaymentAllocation.payment_id)
            .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)).tuples())
        credit = aging_report(uow.session, date(2026, 3, 1)).overall.unapplied_credit
    assert split == [
        ("P1", "I1", D("1000.00"), date(2026, 2, 10)),
        ("P2", "I2", D("300.00"), date(2026, 2, 20)),
        ("P2", "I3", D("200.00"), date(2026, 2, 20)),
        ("opening:I4", "I4", D("250.00"), date(2026, 2, 27)),
    ]
    assert credit == D("100.00")
    database.dispose()


def test_a_reversal_is_not_a_payment_to_the_call_list(db: Database) -> None:
    """Attempts since the last payment count on: a bounced cheque does not reset them."""
    ids = seed(db)
    with db.uow() as uow:
        s = uow.session
        acme = s.get(Customer, ids.acme_corp)
        assert acme is not None and acme.collector_id is not None
        s.add_all([
            Payment(external_ref="P1", customer_id=acme.id, amount=D("50"),
                    paid_on=TODAY - timedelta(days=20)),
            Payment(external_ref="rev:P1", customer_id=acme.id, amount=D("-50"),
                    paid_on=TODAY - timedelta(days=1)),
            *(ContactAttempt(customer_id=acme.id, collector_id=acme.collector_id,
                             at=NOW - timedelta(days=d), outcome=Outcome.NO_ANSWER,
                             source="button") for d in (10, 5)),
        ])
        uow.commit()
    with db.uow() as uow:
        loaded = load_account_states(uow.session, collector_ids=None, today=TODAY, now=NOW)
    [state] = [a for accounts in loaded.by_collector.values() for a in accounts
               if a.customer_id == ids.acme_corp]
    assert state.attempts == 2
