"""Hostile files and paths: refused cleanly, per cell or before anything is imported (#8.8)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.db import Database
from bot.db.models import Customer, Invoice

HEADER = "number,customer_ref,customer_name,issue_date,due_date,amount\n"
GOOD = "I1,C1,Acme,2026-01-01,2026-01-31,100\n"


@pytest.fixture
def cli_db(db_url: str, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("DATABASE_URL", db_url)
    return Database(db_url)


def _count(db: Database) -> int:
    with db.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(Invoice)).scalar_one()


def _import(path: Path, *extra: str) -> int:
    return main(["import", "invoices", str(path), "--today", "2026-03-01", *extra])


def test_a_header_cell_beyond_the_csv_field_limit_is_a_clean_exit_two(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.csv"
    path.write_text("number," + "x" * (csv.field_size_limit() + 10) + "\n" + GOOD,
                    encoding="utf-8")
    assert _import(path) == 2
    err = capsys.readouterr().err
    assert err.startswith("collectbot: error: huge.csv: line 1 (the header): field larger than")
    assert "Traceback" not in err and len(err.splitlines()) == 1
    cli_db.dispose()


def test_a_nul_byte_in_a_key_is_a_bad_cell(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "nul.csv"
    path.write_text(HEADER + GOOD + "I\x002,C1,Ac\x00me,2026-01-01,2026-01-31,100\n",
                    encoding="utf-8")
    assert _import(path) == 1
    err = capsys.readouterr().err
    assert "line 3, column number: contains a NUL byte (\\x00)" in err
    assert "line 3, column customer_name: contains a NUL byte (\\x00)" in err
    assert _count(cli_db) == 0
    cli_db.dispose()


@pytest.mark.parametrize(
    ("where", "expected"),
    [("dir", "is a directory"), ("input", "is the file being imported"),
     ("missing", "does not exist")],
)
def test_a_rejects_path_that_cannot_take_the_rejects_is_refused_first(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: str,
    expected: str,
) -> None:
    path = tmp_path / "invoices.csv"
    body = HEADER + GOOD + "I2,C1,Acme,2026-01-01,2026-01-31,x\n"
    path.write_text(body, encoding="utf-8")
    rejects = {"dir": tmp_path, "input": tmp_path / "." / "invoices.csv",
               "missing": tmp_path / "no" / "r.csv"}[where]
    assert _import(path, "--skip-invalid", "--rejects", str(rejects)) == 2
    assert expected in capsys.readouterr().err
    assert _count(cli_db) == 0
    assert path.read_text(encoding="utf-8") == body
    cli_db.dispose()


def test_formulas_are_inert_in_the_rejects_file_and_refused_as_keys(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + GOOD
                    + '=1+1,C2,"=HYPERLINK(""http://evil.example"")",2026-01-01,2026-01-31,5\n'
                    + "I3,@SUM(A1),-1+cmd,2026-01-01,2026-01-31,-5\n", encoding="utf-8")
    assert _import(path, "--skip-invalid") == 3
    capsys.readouterr()
    text = (tmp_path / "invoices.rejects.csv").read_text(encoding="utf-8")
    rejects = list(csv.reader(text.splitlines()))
    assert rejects[1][:3] == ["'=1+1", "C2", "'=HYPERLINK(\"http://evil.example\")"]
    assert rejects[1][-1].startswith(
        "line 3, column number: a reference may not start with '=' (read as a formula")
    assert rejects[2][:3] == ["I3", "'@SUM(A1)", "'-1+cmd"]
    assert "line 4, column customer_ref: a reference may not start with '@'" in rejects[2][-1]
    assert all(not cell.startswith(("=", "+", "@")) for row in rejects for cell in row)
    assert rejects[2][5] == "-5"  # a signed number evaluates to itself: left as it is
    with cli_db.engine.connect() as connection:
        assert connection.execute(select(Customer.name)).scalars().all() == ["Acme"]
    cli_db.dispose()


def test_skip_invalid_with_rejects_has_its_own_exit_status(
    cli_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + GOOD + "I2,C1,Acme,2026-01-01,2026-01-31,x\n", encoding="utf-8")
    assert _import(path) == 1  # all or nothing: nothing imported
    assert _import(path, "--skip-invalid", "--dry-run") == 3  # would import the good rows
    assert _count(cli_db) == 0
    assert _import(path, "--skip-invalid") == 3  # imported the good rows, rejected the bad
    assert _count(cli_db) == 1
    assert _import(tmp_path / "none.csv") == 2  # a file that cannot be read
    capsys.readouterr()
    cli_db.dispose()
