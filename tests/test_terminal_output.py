"""The CLI at a terminal (rich tables, bold) and piped (plain text, byte for byte as before)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.cli import main
from bot.db import Database
from bot.sandbox.web_api import SlackSandbox
from tests.test_call_lists_job import _seed
from tests.test_import_cli import INVOICES
from tests.test_job_cli import _operator_settings
from tests.test_report import _ledger

BOLD = re.compile(r"\x1b\[1(;[0-9]+)*m")


@pytest.fixture
def plain(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)


@pytest.fixture
def forced_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")


def _unstyled(out: str) -> str:
    """The text without rich's SGR sequences (to look for words across styling)."""
    return re.sub(r"\x1b\[[0-9;]*m", "", out)


@pytest.mark.usefixtures("plain")
def test_report_plain_when_piped_and_a_table_on_a_terminal(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ledger(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["report", "--as-of", "2026-06-30"]) == 0
    piped = capsys.readouterr().out
    assert piped.splitlines()[0] == "Aging as of 2026-06-30 (USD)"
    assert "\x1b[" not in piped and "┃" not in piped
    assert main(["report", "--as-of", "2026-06-30"]) == 0
    assert capsys.readouterr().out == piped  # stable, byte for byte
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    assert main(["report", "--as-of", "2026-06-30"]) == 0
    shown = capsys.readouterr().out
    assert BOLD.search(shown)
    text = _unstyled(shown)
    assert "Aging as of 2026-06-30 (USD)" in text
    assert "┃ Collector" in text and "┃ Past due" in text
    assert "3,675.06" in text  # the team's total row
    assert main(["report", "--as-of", "2026-06-30", "--json"]) == 0
    assert "\x1b[" not in capsys.readouterr().out  # --json is never styled


@pytest.mark.usefixtures("plain")
def test_preview_plain_when_piped_and_a_table_on_a_terminal(
    db: Database, db_url: str, slack_sandbox: SlackSandbox, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _seed(db, slack_sandbox)
    _operator_settings(monkeypatch, db_url, slack_sandbox)
    argv = ["preview", "--collector", "UANA", "--now", "2026-11-23T14:00:00Z"]
    assert main(argv) == 0
    piped = capsys.readouterr().out
    lines = piped.splitlines()
    assert lines[0] == ""
    assert lines[1].startswith("Ana (UANA) · 2026-11-23 · America/New_York · 5 of target 5")
    assert lines[2] == "1 more eligible accounts did not fit the target"
    assert lines[3].startswith("  #  Account")  # the fixed-width table, unchanged
    assert "\x1b[" not in piped
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "160")
    assert main(argv) == 0
    shown = capsys.readouterr().out
    assert re.search(BOLD.pattern + "Ana \\(UANA\\) · 2026-11-23", shown)
    text = _unstyled(shown)
    assert "┃ Account" in text and "Ana Customer 005" in text


@pytest.mark.usefixtures("db", "forced_terminal")
def test_import_summary_plain_when_piped_and_bold_with_a_table_on_a_terminal(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", db_url)
    path = tmp_path / "invoices.csv"
    path.write_text(INVOICES + "I2,C1,2026-01-01,2026-01-31,lots\n", encoding="utf-8")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 1
    shown = capsys.readouterr().err
    text = _unstyled(shown)
    assert "Bad rows" in text and "┃ Line ┃ Column" in text
    assert "not an amount: 'lots'" in text
    assert re.search(BOLD.pattern + "nothing imported", shown)
    path.write_text(INVOICES, encoding="utf-8")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 0
    shown = capsys.readouterr().out
    assert re.search(BOLD.pattern + "imported: invoices.csv", shown)
    assert "┃ Kind     ┃ Created ┃" in _unstyled(shown)
    monkeypatch.delenv("FORCE_COLOR")
    assert main(["import", "invoices", str(path), "--today", "2026-03-01"]) == 0
    piped = capsys.readouterr().out
    assert piped.startswith("imported: invoices.csv\ninvoices: 0 created, 0 updated, 1 unchanged")
    assert "\x1b[" not in piped


@pytest.mark.usefixtures("plain")
def test_objective_list_plain_when_piped_and_a_table_on_a_terminal(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tests.test_objectives import _history

    _history(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["objective", "add", "--metric", "dso", "--target", "-5%", "--from",
                 "2026-06-01", "--to", "2026-07-31", "--today", "2026-06-30"]) == 0
    capsys.readouterr()
    assert main(["objective", "list", "--as-of", "2026-06-30"]) == 0
    piped = capsys.readouterr().out
    assert piped.startswith("#1 ") and "93.0 days → 90.0 days → 88.4 days" in piped
    assert "\x1b[" not in piped
    monkeypatch.setenv("FORCE_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["objective", "list", "--as-of", "2026-06-30"]) == 0
    shown = capsys.readouterr().out
    assert BOLD.search(shown)
    text = _unstyled(shown)
    assert re.search(r"┃\s+Baseline\s+┃", text) and "93.0 days" in text and "88.4 days" in text
    assert "━" in text  # the progress bar
    assert main(["objective", "list", "--as-of", "2026-06-30", "--json"]) == 0
    assert "\x1b[" not in capsys.readouterr().out


@pytest.mark.usefixtures("plain")
def test_recap_reads_as_slack_shows_it_piped_and_bold_on_a_terminal(
    db: Database, db_url: str, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _ledger(db)
    monkeypatch.setenv("DATABASE_URL", db_url)
    assert main(["recap", "--as-of", "2026-06-30"]) == 0
    piped = capsys.readouterr().out
    assert piped.startswith("Weekly recap · ")
    assert "Per collector, last week\n@Ana: " in piped  # by name, not <@U1ANA>
    assert not re.search(r"[*<>`]|&amp;", piped) and "\x1b[" not in piped
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert main(["recap", "--as-of", "2026-06-30"]) == 0
    shown = capsys.readouterr().out
    assert BOLD.search(shown)
    assert _unstyled(shown).split() == piped.split()  # the same words, wrapped to the width
