"""The team roster keeps every account on a collector's list (#8.7)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from sqlalchemy import select

from bot.db import Database
from bot.db.models import Customer, TeamMember
from bot.importer import ImportReport, import_file

TODAY = date(2026, 3, 1)
TEAM = """slack_user_id,name,role,manager,daily_call_target
U0MGR,Maria,manager,,
U0ANA,Ana,collector,U0MGR,30
U0BOB,Bob,collector,U0MGR,25
"""
CUSTOMERS = "external_ref,name,collector\nC1,Acme,U0ANA\nC2,Birch,U0ANA\nC3,Cedar,U0BOB\n"


def _import(db: Database, tmp_path: Path, kind: str, body: str, **kwargs: object) -> ImportReport:
    path = tmp_path / f"{kind}.csv"
    path.write_text(body, encoding="utf-8")
    return import_file(db, kind, path, today=TODAY, default_tz="UTC", **kwargs)  # type: ignore[arg-type]


def _owners(db: Database) -> dict[str, str | None]:
    with db.uow(read_only=True) as uow:
        members = {m.id: m.slack_user_id for m in uow.session.scalars(select(TeamMember))}
        return {c.external_ref: members.get(c.collector_id) if c.collector_id else None
                for c in uow.session.scalars(select(Customer))}


def _managers(db: Database) -> dict[str, int | None]:
    with db.uow(read_only=True) as uow:
        return {m.slack_user_id: m.manager_id for m in uow.session.scalars(select(TeamMember))}


def test_a_manager_cycle_in_the_file_is_refused(db: Database, tmp_path: Path) -> None:
    report = _import(db, tmp_path, "team",
                     "slack_user_id,name,manager\nU0A,Al,U0B\nU0B,Bo,U0A\nU0C,Cy,U0A\n")
    assert [str(e) for e in report.errors] == [
        "line 2, column manager: would make a manager cycle: U0A → U0B → U0A",
        "line 3, column manager: would make a manager cycle: U0A → U0B → U0A",
        "line 4, column manager: U0A's own row (line 2) is refused; fix it first",
    ]
    assert not report.committed and _managers(db) == {}


def test_a_manager_cycle_with_the_database_is_refused(db: Database, tmp_path: Path) -> None:
    assert _import(db, tmp_path, "team", TEAM).committed
    before = _managers(db)
    report = _import(db, tmp_path, "team", "slack_user_id,name,manager\nU0MGR,Maria,U0ANA\n")
    assert [str(e) for e in report.errors] == [
        "line 2, column manager: would make a manager cycle: U0MGR → U0ANA → U0MGR",
    ]
    assert _managers(db) == before


def test_managers_need_no_call_target_and_a_refused_row_is_named_as_such(
    db: Database, tmp_path: Path
) -> None:
    report = _import(db, tmp_path, "team",
                     "slack_user_id,name,role,manager,daily_call_target\n"
                     "U0MGR,Maria,manager,,0\nU0ADM,Ad,admin,,\nU0ANA,Ana,collector,U0MGR,30\n")
    assert report.committed, report.render()
    with db.uow(read_only=True) as uow:
        targets = {m.slack_user_id: m.daily_call_target
                   for m in uow.session.scalars(select(TeamMember))}
    assert targets == {"U0MGR": 0, "U0ADM": 25, "U0ANA": 30}
    refused = _import(db, tmp_path, "team",
                      "slack_user_id,name,role,manager,daily_call_target,timezone\n"
                      "U0BOS,Bo,manager,,0,Mars/Base\nU0CY,Cy,collector,U0BOS,0,\n"
                      "U0DEE,Dee,collector,U0BOS,5,\n")
    assert [str(e) for e in refused.errors] == [
        "line 2, column timezone: unknown time zone 'Mars/Base' (an IANA name like "
        "Europe/Paris)",
        "line 3, column daily_call_target: a collector needs 1 or more calls a day (0 is for "
        "managers and admins)",
        "line 4, column manager: U0BOS's own row in this file is refused; fix it first",
    ]


def test_a_manager_cannot_hold_accounts(db: Database, tmp_path: Path) -> None:
    assert _import(db, tmp_path, "team", TEAM).committed
    report = _import(db, tmp_path, "customers",
                     "external_ref,name,collector\nC1,Acme,U0MGR\nC2,Birch,Maria\n")
    assert [str(e) for e in report.errors] == [
        "line 2, column collector: U0MGR is a manager; only collectors hold accounts",
        "line 3, column collector: U0MGR is a manager; only collectors hold accounts",
    ]


def test_a_deactivated_collectors_book_is_reassigned_and_said(
    db: Database, tmp_path: Path
) -> None:
    assert _import(db, tmp_path, "team", TEAM).committed
    assert _import(db, tmp_path, "customers", CUSTOMERS).committed
    report = _import(db, tmp_path, "team", "slack_user_id,name,active\nU0ANA,Ana,no\n")
    assert report.committed
    summary = report.render()
    assert "Ana (U0ANA) is inactive: 2 account(s) taken back for assignment" in summary
    assert "assigned to Bob (U0BOB): 2 account(s)" in summary
    assert _owners(db) == {"C1": "U0BOB", "C2": "U0BOB", "C3": "U0BOB"}


def test_a_collector_made_manager_gives_up_the_book(db: Database, tmp_path: Path) -> None:
    assert _import(db, tmp_path, "team", TEAM).committed
    assert _import(db, tmp_path, "customers", CUSTOMERS).committed
    report = _import(db, tmp_path, "team", "slack_user_id,name,role\nU0BOB,Bob,manager\n",
                     assign=False)
    assert "Bob (U0BOB) is a manager: 1 account(s) taken back for assignment" in report.render()
    assert _owners(db) == {"C1": "U0ANA", "C2": "U0ANA", "C3": None}
