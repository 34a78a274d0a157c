"""A DATABASE_URL that cannot be used: one line naming the variable and the cause, exit 2."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.cli import main
from tests.conftest import PG_SKIP_REASON, PG_URL

COMMANDS = [
    ["report"],
    ["preview"],
    ["db", "current"],
    ["db", "upgrade"],
    ["policy", "show"],
    ["job", "promises"],
    ["import", "invoices", "FILE"],
    ["serve", "--port", "0"],
]


def _run(argv: list[str], url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "secret")
    invoices = tmp_path / "invoices.csv"
    invoices.write_text("number,customer_ref,issue_date,due_date,amount\n"
                        "I1,C1,2026-01-01,2026-01-31,100\n", encoding="utf-8")
    return main([str(invoices) if a == "FILE" else a for a in argv])


def _one_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("collectbot: error: DATABASE_URL: ")
    return lines[0]


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_every_command_names_a_missing_sqlite_directory(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'nowhere' / 'ledger.sqlite3'}"
    assert _run(argv, url, tmp_path, monkeypatch) == 2
    line = _one_line(capsys.readouterr().err)
    assert f"directory {tmp_path / 'nowhere'} does not exist" in line
    assert not (tmp_path / "nowhere").exists()


@pytest.mark.parametrize(
    ("name", "expected"),
    [("refused", "Connection refused"), ("no such host", "nohost.invalid")],
)
def test_an_unreachable_postgresql_server_is_one_line(
    name: str, expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    host = "127.0.0.1:1" if name == "refused" else "nohost.invalid"
    url = f"postgresql+psycopg://collect:s3cret@{host}/ledger"
    for argv in (["report"], ["serve", "--port", "0"], ["job", "promises"]):
        assert _run(argv, url, tmp_path, monkeypatch) == 2
        line = _one_line(capsys.readouterr().err)
        assert expected in line and "s3cret" not in line and "collect:***@" in line


def test_a_missing_postgresql_database_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    if not PG_URL:
        pytest.skip(PG_SKIP_REASON)
    url = make_url(PG_URL).set(database="collectbot_no_such_db").render_as_string(False)
    assert _run(["report"], url, tmp_path, monkeypatch) == 2
    assert 'database "collectbot_no_such_db" does not exist' in _one_line(capsys.readouterr().err)


def test_a_directory_as_the_sqlite_file_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["report"], f"sqlite:///{tmp_path}", tmp_path, monkeypatch) == 2
    assert f"{tmp_path} is a directory" in _one_line(capsys.readouterr().err)


@pytest.fixture
def ledger_file(sqlite_template: Path, tmp_path: Path) -> Path:
    """A migrated SQLite ledger of this test's own."""
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(sqlite_template.read_bytes())
    return path


def test_a_read_only_sqlite_ledger_reads_but_a_write_is_one_line(
    ledger_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///file:{ledger_file}?mode=ro&uri=true"
    assert _run(["report"], url, tmp_path, monkeypatch) == 0
    capsys.readouterr()
    assert _run(["import", "invoices", "FILE"], url, tmp_path, monkeypatch) == 2
    assert "readonly database" in _one_line(capsys.readouterr().err)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes read-only files")
def test_a_read_only_sqlite_file_is_refused_up_front(
    ledger_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ledger_file.chmod(0o444)
    assert _run(["report"], f"sqlite:///{ledger_file}", tmp_path, monkeypatch) == 2
    assert "is read-only" in _one_line(capsys.readouterr().err)


def test_the_promises_job_needs_no_slack_token(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    assert main(["job", "promises", "--now", "2026-11-23T06:00:00Z"]) == 0
    assert capsys.readouterr().out.startswith("promises: 0 checked")
    assert main(["job", "call-lists", "--now", "2026-11-23T06:00:00Z"]) == 2
    assert "SLACK_BOT_TOKEN: not set" in capsys.readouterr().err
