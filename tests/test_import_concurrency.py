"""An import under way, seen from other processes: reports read on, a second import waits.

The import under way reads a FIFO, so it stays inside its transaction until the test closes
it; the tests wait for events (the import holds its lock, the second import says it waits),
never for a length of time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import IO, Any

import pytest

from bot.db import Database
from bot.importer import ImportReport, import_file
from bot.importer.lock import import_running
from bot.services.report import aging_report, report_json

TODAY = date(2026, 3, 1)
HEADER = "number,customer_ref,issue_date,due_date,amount\n"
# Generous: a report answers in well under a second; SQLite's busy wait is 30 s.
PROCESS_TIMEOUT = 20


def _rows(first: int, last: int, amount: str = "10.00") -> str:
    return "".join(f"I{i},C{i % 50},2026-01-01,2026-01-31,{amount}\n"
                   for i in range(first, last + 1))


class HeldImport:
    """An invoices import reading from a FIFO: under way until `finish()` closes the file."""

    def __init__(self, db: Database, fifo: Path) -> None:
        os.mkfifo(fifo)
        self.outcome: list[ImportReport | BaseException] = []

        def run() -> None:
            try:
                self.outcome.append(
                    import_file(db, "invoices", fifo, today=TODAY, default_tz="UTC"))
            except BaseException as exc:  # noqa: BLE001 - handed to the test thread
                self.outcome.append(exc)

        self.thread = threading.Thread(target=run, name="held-import")
        self.thread.start()
        self.pipe: IO[str] = fifo.open("w", encoding="utf-8")  # returns once the import opens it

    def write(self, body: str) -> None:
        self.pipe.write(body)
        self.pipe.flush()

    def finish(self) -> ImportReport:
        self.pipe.close()
        self.thread.join()
        result = self.outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result


def _wait_for(condition: Any, what: str) -> None:
    for _ in range(400):  # the event is awaited; the count only ends a test that would hang
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"never happened: {what}")


def _cli(db_url: str, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "DATABASE_URL": db_url}
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def _figures(db: Database) -> dict[str, Any]:
    with db.uow(read_only=True) as uow:
        return report_json(aging_report(uow.session, TODAY))


def _report(db_url: str) -> dict[str, Any]:
    """`collectbot report --json` in a process of its own."""
    process = _cli(db_url, "report", "--json", "--as-of", TODAY.isoformat())
    out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    assert process.returncode == 0, err
    figures: dict[str, Any] = json.loads(out)
    return figures


@pytest.fixture
def held(db: Database, tmp_path: Path) -> Iterator[HeldImport]:
    first = tmp_path / "first.csv"
    first.write_text(HEADER + _rows(1, 100), encoding="utf-8")
    assert import_file(db, "invoices", first, today=TODAY, default_tz="UTC").committed
    held = HeldImport(db, tmp_path / "long.csv")
    yield held
    if held.thread.is_alive():
        held.finish()


@pytest.mark.slow
def test_a_report_answers_with_the_figures_from_before_a_running_import(
    db: Database, db_url: str, held: HeldImport
) -> None:
    before = _figures(db)
    assert before["total_ar"] == "1000.00"
    held.write(HEADER + _rows(101, 5_100))  # a batch of 5,000 written inside its transaction
    _wait_for(lambda: import_running(db), "the import holds the write lock")
    during = _report(db_url)
    assert {key: during[key] for key in before} == before  # the aging figures; metrics come besides
    assert held.finish().counts.created == 5_000
    assert _figures(db)["total_ar"] == "51000.00"


@pytest.mark.slow
def test_a_second_import_says_it_waits_then_runs_after_the_first(
    db: Database, db_url: str, held: HeldImport, tmp_path: Path
) -> None:
    held.write(HEADER + _rows(101, 5_200))
    _wait_for(lambda: import_running(db), "the first import holds the lock")
    second = tmp_path / "second.csv"
    # Overlaps the running import's rows: each must read as already there, not as a repeat.
    second.write_text(HEADER + _rows(5_000, 5_600), encoding="utf-8")
    process = _cli(db_url, "import", "invoices", str(second), "--today", TODAY.isoformat())
    assert process.stderr is not None
    told = process.stderr.readline()
    assert "another import is running on this ledger; waiting for it to finish" in told
    assert process.poll() is None  # still waiting
    held.write(_rows(5_201, 5_400))
    assert held.finish().counts.created == 5_300
    out, err = process.communicate(timeout=PROCESS_TIMEOUT)
    assert process.returncode == 0, err
    assert "invoices: 200 created, 0 updated, 401 unchanged, 0 rejected" in out
    assert "appears earlier" not in out + err

