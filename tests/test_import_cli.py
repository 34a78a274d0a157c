"""`collectbot import`: exit status 0 / 1 (bad rows, nothing changed) / 2 (bad file or usage)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import Customer, Invoice

INVOICES = "number,customer_ref,issue_date,due_date,amount\nI1,C1,2026-01-01,2026-01-31,100\n"


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return Database(db_url)


def _count(db: Database, model: type[Invoice] | type[Customer]) -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(model)).scalar_one()


def test_good_file_exits_zero_and_prints_the_summary(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 0
    out = capsys.readouterr().out
    assert "invoices: 1 created, 0 updated, 0 unchanged, 0 rejected" in out
    assert "customers created from invoices: 1" in out
    assert "open balance $100.00, past due $100.00" in out
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 0
    assert "0 created, 0 updated, 1 unchanged" in capsys.readouterr().out
    cli_db.dispose()


def test_bad_rows_exit_one_and_change_nothing(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    rows = "".join(f"J{i},C1,2026-01-01,2026-01-31,x{i}\n" for i in range(60))
    path.write_text(INVOICES + rows, encoding="utf-8")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 1
    err = capsys.readouterr().err
    assert "line 3, column amount: not an amount: 'x0'" in err
    assert "line 52, column amount" in err and "line 53, column" not in err
    assert "... and 10 more" in err and "60 error(s) in 60 row(s) of 61" in err
    assert _count(cli_db, Invoice) == 0 and _count(cli_db, Customer) == 0
    assert main(["import", "invoices", str(path), "--skip-invalid", "--today", "2026-03-01"]) == 3
    assert _count(cli_db, Invoice) == 1
    assert (tmp_path / "invoices.rejects.csv").read_text(encoding="utf-8").count("\n") == 61
    cli_db.dispose()


def test_bad_file_or_usage_exits_two(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    assert main(["import", "invoices", str(path), "--map", "Total=amount"]) == 2
    assert "'total' is not in the header" in capsys.readouterr().err
    assert main(["import", "invoices", str(path), "--map", "amount"]) == 2
    assert "expected SOURCE=FIELD" in capsys.readouterr().err
    assert main(["import", "invoices", str(path), "--date-format", "dd/mm/yyyy"]) == 2
    assert "strftime codes" in capsys.readouterr().err
    assert main(["import", "invoices", str(tmp_path / "nope.csv")]) == 2
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exited:
        main(["import", "widgets", str(path)])
    assert exited.value.code == 2
    with pytest.raises(SystemExit) as exited:
        main(["import", "invoices", str(path), "--today", "2026-13-01"])
    assert exited.value.code == 2
    assert "argument --today: not a date (YYYY-MM-DD): '2026-13-01'" in capsys.readouterr().err
    assert _count(cli_db, Invoice) == 0
    cli_db.dispose()


def test_dry_run_exits_zero_and_changes_nothing(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES, encoding="utf-8")
    assert main(["import", "invoices", str(path), "--dry-run", "--today", "2026-03-01"]) == 0
    assert "dry run, nothing changed" in capsys.readouterr().out
    assert _count(cli_db, Invoice) == 0
    path.write_text(INVOICES + "I2,C1,2026-01-01,2026-01-31,zero\n", encoding="utf-8")
    assert main(["import", "invoices", str(path), "--dry-run", "--today", "2026-03-01"]) == 1
    err = capsys.readouterr().err
    assert "line 3, column amount: not an amount: 'zero'" in err
    assert "the import would be refused" in err and "open balance" not in err
    cli_db.dispose()


def test_a_refused_import_does_not_report_rows_as_created(
    tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("number,customer_ref,issue_date,due_date,amount\n"
                    "I1,C1,2026-01-01,2026-02-01,100\nI2,C1,2026-13-01,2026-02-01,abc\n")
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["import", "invoices", str(path)]) == 1
    printed = capsys.readouterr()
    out = printed.out + printed.err
    assert "invoices: 2 row(s) checked, 1 good, 1 rejected; nothing written" in out
    assert "created" not in out
