"""CSV import on both engines: round trips, idempotence, all-or-nothing, mapping, settlement."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import Select, select

from bot.db import Database
from bot.db.models import (
    AuditEvent,
    Base,
    Customer,
    Invoice,
    Payment,
    PromiseToPay,
    TeamMember,
)
from bot.domain.vocabulary import CustomerStatus, InvoiceStatus, PromiseStatus, Role
from bot.importer import ImportFileError, ImportReport, import_file

T = TypeVar("T")
TODAY = date(2026, 3, 1)
D = Decimal

TEAM = """slack_user_id,name,email,role,manager,timezone,daily_call_target,working_days,\
morning_time,backup,active
U0MGR,Maria Manager,maria@example.com,manager,,America/Chicago,10,mon-fri,08:00,,yes
U0ANA,Ana Collector,ana@example.com,collector,U0MGR,America/Chicago,30,"1,2,3,4,5",08:30,U0BOB,yes
U0BOB,Bob Collector,bob@example.com,Collector,U0MGR,Europe/London,25,mon-thu,9:00,U0ANA,yes
"""

INVOICES = """number,customer_ref,customer_name,issue_date,due_date,amount,amount_paid
I1,C1,Acme,2026-01-01,2026-01-31,1000.00,0
I2,C1,Acme,2026-01-15,2026-02-14,500.00,100
I3,C2,Birch,2026-01-20,2026-03-20,300.00,
"""


def _file(tmp_path: Path, name: str, body: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(body, bytes):
        path.write_bytes(body)
    else:
        path.write_text(body, encoding="utf-8")
    return path


def _import(db: Database, kind: str, path: Path, **kwargs: Any) -> ImportReport:
    kwargs.setdefault("today", TODAY)
    kwargs.setdefault("default_tz", "UTC")
    return import_file(db, kind, path, **kwargs)


def _snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table but the audit trail, in id order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with db.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            if table.name == "audit_events":
                continue
            order = list(table.primary_key.columns)
            tables[table.name] = [tuple(r) for r in connection.execute(
                table.select().order_by(*order))]
    return tables


def _all(db: Database, statement: Select[tuple[T]]) -> list[T]:
    """Rows as objects still readable after the session closes."""
    with db.sessions() as session:
        return list(session.scalars(statement))


def _audits(db: Database, action: str) -> list[AuditEvent]:
    return _all(db, select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))


def test_team_round_trip_and_reimport_is_unchanged(db: Database, tmp_path: Path) -> None:
    path = _file(tmp_path, "team.csv", TEAM)
    report = _import(db, "team", path)
    assert report.ok and report.committed
    assert (report.counts.created, report.counts.updated, report.counts.unchanged) == (3, 0, 0)
    members = {m.slack_user_id: m for m in _all(db, select(TeamMember))}
    ana, bob, mgr = members["U0ANA"], members["U0BOB"], members["U0MGR"]
    assert mgr.role is Role.MANAGER and ana.role is Role.COLLECTOR
    assert ana.manager_id == mgr.id and ana.backup_id == bob.id and bob.backup_id == ana.id
    assert bob.working_days == "1,2,3,4" and bob.morning_time == time(9, 0)
    assert bob.timezone == "Europe/London" and mgr.daily_call_target == 10
    before = _snapshot(db)
    again = _import(db, "team", path)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert _snapshot(db) == before
    assert len(_audits(db, "import")) == 2


def test_team_roster_is_validated(db: Database, tmp_path: Path) -> None:
    body = """slack_user_id,name,role,manager,timezone,daily_call_target,working_days,morning_time
U0ANA,Ana,boss,,Mars/Olympus,-1,mon-fri,08:00
U0BOB,Bob,collector,U0NOBODY,UTC,1000,someday,25:00
not-an-id,Cy,collector,,UTC,5,mon,07:00
U0DEE,Dee,collector,U0DEE,UTC,5,mon,07:00
"""
    report = _import(db, "team", _file(tmp_path, "team.csv", body))
    assert not report.ok and not report.committed
    found = {(e.line, e.column) for e in report.errors}
    assert found == {
        (2, "role"), (2, "timezone"), (2, "daily_call_target"),
        (3, "daily_call_target"), (3, "working_days"), (3, "morning_time"),
        (4, "slack_user_id"), (5, "manager"),
    }
    assert report.counts.rejected == 4
    by_line = {(e.line, e.column): e.message for e in report.errors}
    assert "Mars/Olympus" in by_line[(2, "timezone")]
    assert "between 0 and 500" in by_line[(3, "daily_call_target")]
    assert _all(db, select(TeamMember)) == []


def test_unknown_manager_is_named_and_nothing_changes(db: Database, tmp_path: Path) -> None:
    body = "slack_user_id,name,manager\nU0ANA,Ana,U0GHOST\nU0BOB,Bob,\n"
    report = _import(db, "team", _file(tmp_path, "team.csv", body))
    assert [str(e) for e in report.errors] == [
        "line 2, column manager: U0GHOST is not on the team (not in this file or already "
        "imported)"
    ]
    assert _snapshot(db)["team_members"] == []


def test_customers_round_trip_with_collectors_by_id_name_email(
    db: Database, tmp_path: Path
) -> None:
    _import(db, "team", _file(tmp_path, "team.csv", TEAM))
    body = """external_ref,name,contact_name,phone,email,tier,status,collector
C1,Acme,Wile E.,555-0100,ap@acme.test,key,active,U0ANA
C2,Birch,,,,standard,On Hold,bob collector
C3,Cedar,,,,,,ana@example.com
C4,Dune,,,,,,
"""
    path = _file(tmp_path, "customers.csv", body)
    report = _import(db, "customers", path, assign=False)
    assert report.ok and report.counts.created == 4
    members = {m.id: m.slack_user_id for m in _all(db, select(TeamMember))}
    customers = {c.external_ref: c for c in _all(db, select(Customer))}
    assert members[customers["C1"].collector_id] == "U0ANA"  # type: ignore[index]
    assert members[customers["C2"].collector_id] == "U0BOB"  # type: ignore[index]
    assert members[customers["C3"].collector_id] == "U0ANA"  # type: ignore[index]
    assert customers["C4"].collector_id is None
    assert customers["C2"].status is CustomerStatus.ON_HOLD and customers["C1"].tier == "key"
    assert customers["C1"].phone == "555-0100" and customers["C3"].tier == "standard"
    before = _snapshot(db)
    again = _import(db, "customers", path, assign=False)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 4)
    assert _snapshot(db) == before
    rename = _file(tmp_path, "c2.csv", "external_ref,name\nC1,Acme Inc\n")
    renamed = _import(db, "customers", rename)
    assert renamed.counts.updated == 1
    [acme] = _all(db, select(Customer).where(Customer.external_ref == "C1"))
    # Columns absent from the file keep their values.
    assert acme.name == "Acme Inc" and acme.phone == "555-0100" and acme.tier == "key"


def test_unknown_collector_is_a_bad_row(db: Database, tmp_path: Path) -> None:
    body = "external_ref,name,collector\nC1,Acme,Zed\n"
    report = _import(db, "customers", _file(tmp_path, "c.csv", body))
    assert [str(e) for e in report.errors] == [
        "line 2, column collector: no team member 'Zed' (Slack id, name or email; import the "
        "team first)"
    ]


def test_invoices_create_customers_record_payments_and_are_idempotent(
    db: Database, tmp_path: Path
) -> None:
    path = _file(tmp_path, "invoices.csv", INVOICES)
    report = _import(db, "invoices", path)
    assert report.ok
    assert report.counts.created == 3 and report.customers_created == 2
    assert report.payments_recorded == 1
    # Open: 1000 + 400 + 300; past due on 2026-03-01: I1 and I2.
    assert (report.open_balance, report.past_due_balance) == (D("1700.00"), D("1400.00"))
    [payment] = _all(db, select(Payment))
    names = sorted(c.name for c in _all(db, select(Customer)))
    assert (payment.external_ref, payment.amount, payment.paid_on) == (
        "inv:I2:100.00", D("100.00"), TODAY)
    assert names == ["Acme", "Birch"]
    before = _snapshot(db)
    again = _import(db, "invoices", path)
    assert (again.counts.created, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert again.customers_created == 0 and again.payments_recorded == 0
    assert _snapshot(db) == before
    [audit, _] = _audits(db, "import")
    assert audit.detail is not None and audit.detail["created"] == 3
    assert audit.detail["customers_created"] == 2


def test_newer_export_updates_balances_and_settles(db: Database, tmp_path: Path) -> None:
    _import(db, "invoices", _file(tmp_path, "v1.csv", INVOICES))
    newer = """number,customer_ref,issue_date,due_date,amount,amount_paid,settled_date
I1,C1,2026-01-01,2026-01-31,1000.00,,2026-02-27
I2,C1,2026-01-15,2026-02-14,500.00,250,
I3,C2,2026-01-20,2026-03-20,300.00,0,
"""
    report = _import(db, "invoices", _file(tmp_path, "v2.csv", newer))
    assert report.ok
    assert (report.counts.updated, report.counts.unchanged) == (2, 1)
    assert report.invoices_settled == 1 and report.payments_recorded == 2
    invoices = {i.number: i for i in _all(db, select(Invoice))}
    payments = {p.external_ref: (p.amount, p.paid_on) for p in _all(db, select(Payment))}
    assert invoices["I1"].status is InvoiceStatus.PAID
    assert invoices["I1"].settled_date == date(2026, 2, 27)
    assert invoices["I1"].amount_paid == D("1000.00")
    assert invoices["I2"].status is InvoiceStatus.OPEN and invoices["I2"].amount_paid == D("250")
    assert payments == {
        "inv:I2:100.00": (D("100.00"), TODAY),
        "inv:I1:1000.00": (D("1000.00"), date(2026, 2, 27)),
        "inv:I2:250.00": (D("150.00"), TODAY),
    }
    assert (report.open_balance, report.past_due_balance) == (D("550.00"), D("250.00"))


def test_us_dates_map_bom_semicolons_and_money_formats(db: Database, tmp_path: Path) -> None:
    body = (
        "\ufeffInvoice #;Client;Issued;Due;Total\n"
        "1001;C9;01/05/2026;02/04/2026;\"$1,234.50\"\n"
        "1002;C9;01/06/2026;02/05/2026;1 234.50 €\n"  # one decimal mark per file
    ).encode()
    report = _import(
        db, "invoices", _file(tmp_path, "export.csv", body),
        mapping={"Invoice #": "number", "Client": "customer_ref", "Issued": "issue_date",
                 "Due": "due_date", "Total": "amount"},
        date_format="%m/%d/%Y",
    )
    assert report.ok, report.render()
    rows = [(i.number, i.issue_date, i.due_date, i.amount)
            for i in _all(db, select(Invoice).order_by(Invoice.number))]
    assert rows == [
        ("1001", date(2026, 1, 5), date(2026, 2, 4), D("1234.50")),
        ("1002", date(2026, 1, 6), date(2026, 2, 5), D("1234.50")),
    ]


def test_bad_rows_change_nothing_and_each_is_named(db: Database, tmp_path: Path) -> None:
    _import(db, "invoices", _file(tmp_path, "v1.csv", INVOICES))
    before = _snapshot(db)
    body = """Number,Customer Ref,Issue Date,Due Date,Amount
I1,C1,2026-01-01,2026-01-31,999.00
I7,C7,2026-02-30,2026-03-31,10
I8,C8,2026-02-01,2026-01-01,abc
I9,,2026-02-01,2026-03-01,5

I10,C1,2026-02-01
I2,C1,2026-01-15,2026-02-14,500.00
I2,C1,2026-01-15,2026-02-14,600.00
"""
    report = _import(db, "invoices", _file(tmp_path, "bad.csv", body))
    assert not report.ok and not report.committed
    assert [str(e) for e in report.errors] == [
        "line 3, column Issue Date: not a date (YYYY-MM-DD): '2026-02-30'",
        "line 4, column Amount: not an amount: 'abc'",
        "line 4, column Due Date: due 2026-01-01 is before issue date 2026-02-01",
        "line 5, column Customer Ref: missing",
        "line 7, column Due Date: missing (the row has 3 cells, the header 5)",
        "line 9, column Number: invoice I2 repeats line 8",
    ]
    assert report.counts.rejected == 5 and report.error_count == 6
    assert _snapshot(db) == before
    assert "nothing imported" in report.render()
    assert len(_audits(db, "import")) == 1


def test_skip_invalid_imports_good_rows_and_writes_rejects(db: Database, tmp_path: Path) -> None:
    body = "number;customer_ref;issue_date;due_date;amount\n" \
           "I1;C1;2026-01-01;2026-01-31;100\n" \
           "I2;C1;2026-01-01;2026-01-31;-5\n" \
           "I3;C1;2026-01-01;2026-01-31;7\n"
    path = _file(tmp_path, "mixed.csv", body)
    dry = _import(db, "invoices", path, skip_invalid=True, dry_run=True)
    assert dry.counts.created == 2 and dry.counts.rejected == 1 and not dry.committed
    assert not (tmp_path / "mixed.rejects.csv").exists()
    assert _snapshot(db)["invoices"] == []
    report = _import(db, "invoices", path, skip_invalid=True)
    assert report.committed and not report.ok
    assert report.rejects_path == tmp_path / "mixed.rejects.csv"
    with report.rejects_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle, delimiter=";"))
    assert rows == [
        ["number", "customer_ref", "issue_date", "due_date", "amount", "error"],
        ["I2", "C1", "2026-01-01", "2026-01-31", "-5",
         "line 3, column amount: must be positive: -5.00"],
    ]
    assert sorted(_all(db, select(Invoice.number))) == ["I1", "I3"]


def test_dry_run_reports_and_changes_nothing(db: Database, tmp_path: Path) -> None:
    _import(db, "team", _file(tmp_path, "team.csv", TEAM))
    before = _snapshot(db)
    report = _import(db, "invoices", _file(tmp_path, "i.csv", INVOICES), dry_run=True)
    assert report.ok and not report.committed
    assert report.counts.created == 3 and report.customers_created == 2
    assert sum(a.accounts for a in report.assignment) == 2
    assert "dry run, nothing changed" in report.render()
    assert _snapshot(db) == before


def test_file_level_problems_raise(db: Database, tmp_path: Path) -> None:
    path = _file(tmp_path, "i.csv", "number,amount\nI1,5\n")
    with pytest.raises(ImportFileError, match="missing required column.*customer_ref"):
        _import(db, "invoices", path)
    with pytest.raises(ImportFileError, match="unknown field 'nombre'"):
        _import(db, "invoices", path, mapping={"number": "nombre"})
    with pytest.raises(ImportFileError, match="'total' is not in the header"):
        _import(db, "invoices", path, mapping={"Total": "amount"})
    with pytest.raises(ImportFileError, match="empty"):
        _import(db, "invoices", _file(tmp_path, "e.csv", ""))
    with pytest.raises(ImportFileError, match="cannot read"):
        _import(db, "invoices", tmp_path / "missing.csv")
    with pytest.raises(ImportFileError, match="line 2 is not UTF-8 text"):
        _import(db, "customers", _file(tmp_path, "l1.csv", b"external_ref,name\nC1,Caf\xe9\n"))
    with pytest.raises(ImportFileError, match="unknown kind"):
        _import(db, "widgets", path)
    assert _snapshot(db)["customers"] == []


def test_auto_assignment_balances_past_due(db: Database, tmp_path: Path) -> None:
    _import(db, "team", _file(tmp_path, "team.csv", TEAM))
    amounts = [900, 700, 500, 400, 300, 200]
    lines = ["number,customer_ref,issue_date,due_date,amount"] + [
        f"N{i},K{i},2026-01-01,2026-01-31,{a}" for i, a in enumerate(amounts)]
    report = _import(db, "invoices", _file(tmp_path, "i.csv", "\n".join(lines) + "\n"))
    books = {a.slack_user_id: (a.accounts, a.past_due) for a in report.assignment}
    # The manager gets nothing; 900+400+200 and 700+500+300.
    assert books == {"U0ANA": (3, D("1500.00")), "U0BOB": (3, D("1500.00"))}
    assert "assigned to Ana Collector (U0ANA): 3 account(s), $1,500.00 past due" in report.render()
    assert _all(db, select(Customer).where(Customer.collector_id.is_(None))) == []
    assigned = _audits(db, "assign")
    assert sorted(a.detail["accounts"] for a in assigned if a.detail) == [3, 3]
    skipped = _import(db, "invoices", _file(tmp_path, "j.csv", "number,customer_ref,issue_date,"
                                            "due_date,amount\nN9,K9,2026-01-01,2026-01-31,5\n"),
                      assign=False)
    assert skipped.assignment == []


def test_payments_apply_oldest_first_and_keep_promises(db: Database, tmp_path: Path) -> None:
    _import(db, "team", _file(tmp_path, "team.csv", TEAM))
    _import(db, "invoices", _file(tmp_path, "i.csv", INVOICES))
    with db.uow() as uow:
        acme = uow.session.scalars(select(Customer).where(Customer.external_ref == "C1")).one()
        birch = uow.session.scalars(select(Customer).where(Customer.external_ref == "C2")).one()
        collector_id = acme.collector_id
        assert collector_id is not None
        made = datetime(2026, 2, 20, 15, 0, tzinfo=UTC)
        uow.session.add_all([
            PromiseToPay(customer_id=acme.id, collector_id=collector_id, amount=D("1200"),
                         promised_date=date(2026, 3, 5), created_at=made),
            PromiseToPay(customer_id=birch.id, collector_id=collector_id, amount=D("200"),
                         promised_date=date(2026, 3, 5), created_at=made),
        ])
        uow.commit()
    body = """external_ref,customer_ref,invoice_number,amount,paid_on,method
P1,C1,,"1,100.00",2026-02-25,ach
P2,,I3,50,2026-02-26,check
P0,C1,,10,2026-02-01,ach
"""
    path = _file(tmp_path, "p.csv", body)
    report = _import(db, "payments", path)
    assert report.ok, report.render()
    assert report.counts.created == 3 and report.invoices_settled == 1
    # Acme's 1200 made 02-20: P1 1100 + the 100 the invoice import recorded on 03-01 (P0
    # predates the promise) -> kept. Birch's 200: P2's 50 -> partially kept.
    assert (report.promises_kept, report.promises_partially_kept) == (1, 1)
    invoices = {i.number: i for i in _all(db, select(Invoice))}
    payments = {p.external_ref: p for p in _all(db, select(Payment))}
    # I1 (due first) takes 1000 of P1, I2 the other 100 (now 200 of 500), then P0 takes 10.
    assert invoices["I1"].status is InvoiceStatus.PAID
    assert invoices["I1"].settled_date == date(2026, 2, 25)
    assert invoices["I2"].amount_paid == D("210.00")
    assert invoices["I3"].amount_paid == D("50.00")
    assert payments["P1"].invoice_id is None and payments["P2"].invoice_id == invoices["I3"].id
    before = _snapshot(db)
    again = _import(db, "payments", path)
    assert again.counts.unchanged == 3 and _snapshot(db) == before
    more = _import(db, "payments", _file(tmp_path, "p2.csv",
                                         "external_ref,customer_ref,amount,paid_on\n"
                                         "P3,C1,100,2026-03-01\nP4,C2,150,2026-03-01\n"))
    # P3 comes after Acme's promise was kept; P4 (before the promised date) completes Birch's.
    assert (more.promises_kept, more.promises_partially_kept) == (1, 0)
    promises = sorted((p.amount, p.status, p.amount_received, p.resolved_on)
                      for p in _all(db, select(PromiseToPay)))
    assert promises == [
        (D("200.00"), PromiseStatus.KEPT, D("200.00"), TODAY),
        (D("1200.00"), PromiseStatus.KEPT, D("1200.00"), TODAY),
    ]


def test_payment_refs_are_checked(db: Database, tmp_path: Path) -> None:
    _import(db, "invoices", _file(tmp_path, "i.csv", INVOICES))
    _import(db, "payments", _file(tmp_path, "p.csv",
                                  "external_ref,customer_ref,amount,paid_on\nP1,C1,5,2026-02-01\n"))
    body = """external_ref,customer_ref,invoice_number,amount,paid_on
P1,C1,,6,2026-02-01
P5,C404,,5,2026-02-01
P6,,I404,5,2026-02-01
P7,C2,I1,5,2026-02-01
P8,,,5,2026-02-01
"""
    report = _import(db, "payments", _file(tmp_path, "bad.csv", body))
    assert [str(e) for e in report.errors] == [
        "line 6, column customer_ref: missing (give customer_ref or invoice_number)",
        "line 3, column customer_ref: customer C404 not found",
        "line 4, column invoice_number: invoice I404 not found",
        "line 5, column invoice_number: invoice I1 belongs to another customer",
        "line 2, column external_ref: payment P1 is already recorded (5.00 on 2026-02-01); "
        "a recorded payment is not changed by import",
    ]


def test_money_comes_back_to_the_cent(db: Database, tmp_path: Path) -> None:
    """SQLite keeps NUMERIC as REAL: values and sums must still read back as exact cents."""
    from bot.db.models import Invoice
    from bot.services.report import aging_report

    dimes = "".join(f"D{n},C1,2026-01-01,2026-01-31,0.10,\n" for n in range(1000))
    body = ("number,customer_ref,issue_date,due_date,amount,amount_paid\n"
            "I1,C1,2026-01-01,2026-01-31,123456789.99,0.01\n" + dimes)
    report = _import(db, "invoices", _file(tmp_path, "i.csv", body))
    assert report.open_balance == D("123456889.98")  # 123,456,789.98 + 1,000 x 0.10
    with db.uow() as uow:
        big = uow.session.query(Invoice).filter_by(number="I1").one()
        assert (big.amount, big.amount_paid) == (D("123456789.99"), D("0.01"))
        assert aging_report(uow.session, TODAY).total_ar == D("123456889.98")


@pytest.mark.parametrize(
    "row",
    [
        {"number": "A1", "customer_ref": "C1", "issue_date": "2026-01-01",
         "due_date": "2026-01-31", "amount": "$1,000.00"},
        {"number": " A2 ", "customer_ref": "C1", "issue_date": "2026-01-01",
         "due_date": "2026-01-01", "amount": "10", "customer_name": " Acme ",
         "amount_paid": "10", "currency": "usd", "disputed": "yes"},
        {"number": "A3", "customer_ref": "C1", "issue_date": "2026-01-01",
         "due_date": "2026-01-31", "amount": "10", "customer_name": "", "amount_paid": " ",
         "currency": "", "disputed": "", "settled_date": "", "status": ""},
    ],
)
def test_clean_and_careful_invoice_parsing_agree(db: Database, row: dict[str, str]) -> None:
    from bot.importer.base import Cells, ImportContext
    from bot.importer.invoices import InvoiceImporter

    with db.engine.connect() as connection:
        context = ImportContext(connection, ImportReport("invoices", Path("x.csv")), TODAY,
                                datetime.now(UTC), None, "UTC")
        importer = InvoiceImporter(context)
        clean = importer.parse_clean(row)
        assert clean is not None
        assert clean == importer.parse_careful(Cells(row))


@pytest.mark.parametrize(
    "change",
    [{"amount": "-5"}, {"amount_paid": "11"}, {"due_date": "2025-12-31"}, {"number": " "},
     {"currency": "EURO"}, {"currency": "EUR"}, {"disputed": "maybe"},
     {"settled_date": "2026-01-05"}, {"status": "void"}, {"amount": "1.2345"},
     {"amount_paid": "-1"}, {"issue_date": "0001-01-01"}, {"due_date": "9999-12-31"}],
)
def test_unusual_invoice_rows_take_the_careful_path(db: Database, change: dict[str, str]) -> None:
    from bot.importer.base import ImportContext
    from bot.importer.invoices import InvoiceImporter

    row = {"number": "A1", "customer_ref": "C1", "issue_date": "2026-01-01",
           "due_date": "2026-01-31", "amount": "10", **change}
    with db.engine.connect() as connection:
        context = ImportContext(connection, ImportReport("invoices", Path("x.csv")), TODAY,
                                datetime.now(UTC), None, "UTC")
        assert InvoiceImporter(context).parse_clean(row) is None


def test_a_key_repeated_in_a_later_batch_is_caught(
    db: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.importer.run

    monkeypatch.setattr(bot.importer.run, "BATCH_ROWS", 2)
    _import(db, "invoices", _file(tmp_path, "seed.csv", INVOICES))
    invoices = (INVOICES + "I4,C1,Acme,2026-01-01,2026-01-31,5,\n"
                "I1,C1,Acme,2026-01-01,2026-01-31,7,\n")
    customers = "external_ref,name\nC1,A\nC5,E\nC6,F\nC5,E2\nC1,A2\n"
    payments = ("external_ref,customer_ref,amount,paid_on\nP1,C1,5,2026-02-01\n"
                "P2,C1,5,2026-02-01\nP3,C1,5,2026-02-01\nP1,C1,5,2026-02-01\n")
    before = _snapshot(db)
    found = {}
    for kind, body in (("invoices", invoices), ("customers", customers),
                       ("payments", payments)):
        report = _import(db, kind, _file(tmp_path, f"{kind}.csv", body))
        found[kind] = [str(e) for e in report.errors]
        # Earlier batches of the same file were written, then rolled back with the bad row.
        assert not report.committed
        assert _snapshot(db) == before
    assert found == {
        "invoices": ["line 6, column number: invoice I1 appears earlier in the file"],
        "customers": ["line 5, column external_ref: customer C5 appears earlier in the file",
                      "line 6, column external_ref: customer C1 appears earlier in the file"],
        "payments": ["line 5, column external_ref: payment P1 appears earlier in the file"],
    }


@pytest.mark.parametrize(
    ("kind", "body", "error"),
    [
        ("customers", "external_ref,name\nC1,A\nC5,E\nC5,E2\n",
         "line 4, column external_ref: customer C5 repeats line 3"),
        ("invoices", "number,customer_ref,issue_date,due_date,amount\n"
         "I1,C1,2026-01-01,2026-01-31,7\nI4,C1,2026-01-01,2026-01-31,5\n"
         "I4,C1,2026-01-01,2026-01-31,6\n",
         "line 4, column number: invoice I4 repeats line 3"),
        ("payments", "external_ref,customer_ref,amount,paid_on\nP1,C1,5,2026-02-01\n"
         "P2,C1,5,2026-02-01\nP1,C1,6,2026-02-02\n",
         "line 4, column external_ref: payment P1 repeats line 2"),
    ],
)
def test_a_key_repeated_in_one_batch_names_both_lines(
    db: Database, tmp_path: Path, kind: str, body: str, error: str
) -> None:
    _import(db, "invoices", _file(tmp_path, "seed.csv", INVOICES))
    before = _snapshot(db)
    report = _import(db, kind, _file(tmp_path, f"{kind}.csv", body))
    assert [str(e) for e in report.errors] == [error]
    assert not report.ok and not report.committed
    assert report.counts.rejected == 1
    assert _snapshot(db) == before


def test_progress_bar_draws_on_a_terminal() -> None:
    import io

    from rich.console import Console

    from bot.importer.progress import ProgressBar

    stream = io.StringIO()
    bar = ProgressBar("importing invoices", 1000,
                      Console(file=stream, force_terminal=True, width=100))
    bar.update(500, 5000, force=True)
    assert "importing invoices" in stream.getvalue()
    assert "50%" in stream.getvalue() and "5,000 rows" in stream.getvalue()
    bar.close(10000)
    last = stream.getvalue().rsplit("\r", 1)[-1]
    assert "100%" in last and "10,000 rows" in last
    assert "━" in last  # rich's bar
