"""Implausible dates are refused per cell; a date asked about is inside the calendar (#8.4)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import Invoice, Payment
from bot.domain.ledger_dates import implausible, ledger_window, out_of_range
from bot.importer import import_file

TODAY = date(2026, 3, 1)
HEADER = "number,customer_ref,issue_date,due_date,amount,amount_paid,settled_date\n"


def test_the_window_runs_fifty_years_back_and_ten_ahead() -> None:
    assert ledger_window(TODAY) == (date(1976, 3, 1), date(2036, 3, 1))
    assert ledger_window(date(2028, 2, 29)) == (date(1978, 2, 28), date(2038, 2, 28))
    assert implausible(date(2036, 3, 1), TODAY) is None
    assert implausible(date(2036, 3, 2), TODAY) == "2036-03-02 is more than 10 years ahead"
    assert implausible(date(1, 1, 1), TODAY) == "0001-01-01 is more than 50 years ago"
    assert implausible(TODAY, TODAY, received=True) is None
    assert implausible(date(2026, 3, 2), TODAY, received=True) == (
        "2026-03-02 is in the future (today is 2026-03-01)")
    assert out_of_range(date(1, 1, 1)) == "0001-01-01 is outside 1900-01-01 to 2199-12-31"
    assert out_of_range(date(9999, 12, 31)) is not None and out_of_range(TODAY) is None


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("I1,C1,0001-01-01,2026-01-31,100,,", "column issue_date: 0001-01-01 is more than 50"),
        ("I1,C1,2026-01-01,9999-12-31,100,,", "column due_date: 9999-12-31 is more than 10"),
        ("I1,C1,2026-01-01,2026-01-31,100,100,2026-03-02", "column settled_date: 2026-03-02 is "
                                                          "in the future"),
        ("I1,C1,2026-01-01,2026-01-31,100,100,0001-01-01", "column settled_date: 0001-01-01"),
    ],
)
def test_implausible_invoice_dates_are_refused_per_cell(
    db: Database, tmp_path: Path, row: str, expected: str
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + "I0,C1,2026-01-01,2026-01-31,50,,\n" + row + "\n", encoding="utf-8")
    report = import_file(db, "invoices", path, today=TODAY, default_tz="UTC")
    assert not report.committed
    assert len(report.errors) == 1
    assert str(report.errors[0]).startswith(f"line 3, {expected}")
    with db.engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Invoice)).scalar() == 0


def test_implausible_payment_dates_are_refused_per_cell(db: Database, tmp_path: Path) -> None:
    invoices = tmp_path / "invoices.csv"
    invoices.write_text(HEADER + "I1,C1,2026-01-01,2026-01-31,100,,\n", encoding="utf-8")
    assert import_file(db, "invoices", invoices, today=TODAY, default_tz="UTC").committed
    payments = tmp_path / "payments.csv"
    payments.write_text("external_ref,invoice_number,amount,paid_on\n"
                        "P1,I1,10,2026-03-02\nP2,I1,10,0001-01-01\nP3,I1,10,2026-03-01\n",
                        encoding="utf-8")
    report = import_file(db, "payments", payments, today=TODAY, default_tz="UTC",
                         skip_invalid=True)
    assert [str(e) for e in report.errors] == [
        "line 2, column paid_on: 2026-03-02 is in the future (today is 2026-03-01)",
        "line 3, column paid_on: 0001-01-01 is more than 50 years ago",
    ]
    with db.engine.connect() as connection:
        assert connection.execute(select(Payment.external_ref)).scalars().all() == ["P3"]


@pytest.mark.parametrize("as_of", ["0001-01-01", "9999-12-31"])
def test_report_as_of_a_date_outside_the_calendar_is_a_usage_error(
    db_url: str, as_of: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    with pytest.raises(SystemExit) as exited:
        main(["report", "--as-of", as_of])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"argument --as-of: {as_of} is outside 1900-01-01 to 2199-12-31" in err
    assert "Traceback" not in err
    assert main(["report", "--as-of", "1900-01-01", "--json"]) == 0
