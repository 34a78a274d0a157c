"""Team roster import: members by Slack user id, with managers and backups from the file or DB."""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection, bindparam, func, insert, or_, select, update

from bot.domain.call_targets import MAX_DAILY_CALLS
from bot.domain.vocabulary import Role
from bot.importer.base import (
    TABLES,
    Cells,
    KindImporter,
    Pending,
    Rejection,
    must,
)
from bot.importer.report import ReleasedBook
from bot.importer.source import Column
from bot.importer.values import (
    CellError,
    parse_bool,
    parse_choice,
    parse_email,
    parse_int,
    parse_text,
    parse_time,
    parse_working_days,
)

MEMBERS = TABLES["team_members"]
CUSTOMERS = TABLES["customers"]
ROLES = frozenset(r.value for r in Role)
# A blank cell in these columns clears the stored value; elsewhere a blank keeps it.
CLEARABLE = ("email", "timezone", "morning_time", "manager", "backup")


def parse_slack_id(text: str) -> str:
    value = text.strip().upper()
    if not re.fullmatch(r"[UW][A-Z0-9]{2,31}", value):
        raise CellError(f"not a Slack user id (like U012AB3CD): {text.strip()!r}")
    return value


def parse_zone(text: str) -> str:
    name = text.strip()
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CellError(f"unknown time zone {name!r} (an IANA name like Europe/Paris)") from None
    return name


@dataclass(frozen=True, slots=True)
class MemberRow:
    slack_user_id: str
    values: dict[str, Any]  # the columns this row sets, manager/backup excluded
    manager: str | None
    backup: str | None
    sets_manager: bool
    sets_backup: bool


def _target_problem(row: MemberRow, current: Any) -> str | None:
    """A collector needs a call target; a manager's or admin's may be 0."""
    role = row.values.get("role") or (current.role if current is not None else Role.COLLECTOR)
    target = row.values.get("daily_call_target",
                            current.daily_call_target if current is not None else 25)
    if role is Role.COLLECTOR and target == 0:
        return "a collector needs 1 or more calls a day (0 is for managers and admins)"
    return None


def _manager_cycle(
    rows: dict[str, Pending[MemberRow]], existing: dict[str, Any]
) -> list[str] | None:
    """A cycle of managers (A, B, ..., A) the file's rows would make with the roster, if any."""
    by_id = {r.id: slack_id for slack_id, r in existing.items()}
    manager_of: dict[str, str | None] = {
        slack_id: by_id.get(r.manager_id) for slack_id, r in existing.items()
    }
    for slack_id, p in rows.items():
        if p.row.sets_manager:
            manager_of[slack_id] = p.row.manager
    for start, p in rows.items():
        if not p.row.sets_manager:
            continue
        path = [start]
        node = manager_of.get(start)
        while node is not None and node not in path:
            path.append(node)
            node = manager_of.get(node)
        if node == start:
            return [*path, start]
    return None


def _release_books(conn: Connection) -> list[ReleasedBook]:
    """Accounts of members who do not collect (inactive, manager, admin) become unowned.

    Auto-assignment then gives them to active collectors, as it does any unowned account.
    """
    idle = or_(MEMBERS.c.active.is_(False), MEMBERS.c.role != Role.COLLECTOR)
    books = conn.execute(
        select(MEMBERS.c.id, MEMBERS.c.slack_user_id, MEMBERS.c.name, MEMBERS.c.role,
               MEMBERS.c.active, func.count(CUSTOMERS.c.id))
        .join(CUSTOMERS, CUSTOMERS.c.collector_id == MEMBERS.c.id)
        .where(idle)
        .group_by(MEMBERS.c.id, MEMBERS.c.slack_user_id, MEMBERS.c.name, MEMBERS.c.role,
                  MEMBERS.c.active)
        .order_by(MEMBERS.c.slack_user_id)
    ).all()
    if not books:
        return []
    conn.execute(update(CUSTOMERS).where(CUSTOMERS.c.collector_id.in_([b.id for b in books]))
                 .values(collector_id=None))
    return [
        ReleasedBook(b.slack_user_id, b.name, b[5],
                     "inactive" if not b.active else Role(b.role).value)
        for b in books
    ]


class _Screening:
    """The file's rows checked against each other and the roster: the accepted ones, and why
    each other one is refused."""

    def __init__(self, roster: list[Pending[MemberRow]], existing: dict[str, Any],
                 refused_ids: set[str]) -> None:
        self.existing = existing
        self.refused_ids = refused_ids  # rows refused for a bad cell, before any of this
        self.rows: dict[str, Pending[MemberRow]] = {}
        self.rejected: list[Rejection] = []
        self.refused: dict[str, int] = {}  # slack id -> line of its refused row
        for p in roster:
            earlier = self.rows.get(p.row.slack_user_id)
            if earlier is not None:
                self.rejected.append(Rejection(
                    p.line, p.cells, "slack_user_id",
                    f"{p.row.slack_user_id} repeats line {earlier.line}"))
            else:
                self.rows[p.row.slack_user_id] = p

    def refuse(self, p: Pending[MemberRow], field: str, message: str) -> None:
        self.rejected.append(Rejection(p.line, p.cells, field, message))
        self.refused.setdefault(p.row.slack_user_id, p.line)
        if self.rows.get(p.row.slack_user_id) is p:
            del self.rows[p.row.slack_user_id]

    def accepted(self) -> dict[str, Pending[MemberRow]]:
        """Refuse rows with no call target for a collector, naming someone who is neither
        imported nor accepted, or closing a manager cycle, until none do; the rest."""
        for p in list(self.rows.values()):
            problem = _target_problem(p.row, self.existing.get(p.row.slack_user_id))
            if problem:
                self.refuse(p, "daily_call_target", problem)
        while self._refuse_unknown_references() or self._refuse_a_cycle():
            pass
        self.rejected.sort(key=lambda r: r.line)
        return self.rows

    def _refuse_unknown_references(self) -> bool:
        known = self.rows.keys() | self.existing.keys()
        missing = [
            (p, field, ref) for p in self.rows.values()
            for field, ref in (("manager", p.row.manager), ("backup", p.row.backup))
            if ref and ref not in known
        ]
        for p, field, ref in missing:
            if self.rows.get(p.row.slack_user_id) is p:
                self.refuse(p, field, self._unknown(ref))
        return bool(missing)

    def _refuse_a_cycle(self) -> bool:
        cycle = _manager_cycle(self.rows, self.existing)
        if cycle is None:
            return False
        path = " → ".join(cycle)
        for slack_id in cycle[:-1]:
            closing = self.rows.get(slack_id)
            if closing is not None and closing.row.sets_manager:
                self.refuse(closing, "manager", f"would make a manager cycle: {path}")
        return True

    def _unknown(self, ref: str) -> str:
        if ref in self.refused:
            return f"{ref}'s own row (line {self.refused[ref]}) is refused; fix it first"
        if ref in self.refused_ids:
            return f"{ref}'s own row in this file is refused; fix it first"
        return f"{ref} is not on the team (not in this file or already imported)"


class TeamImporter(KindImporter[MemberRow]):
    kind = "team"
    columns = (
        Column("slack_user_id", True, "the member's Slack user id (U...); the key"),
        Column("name", True, "display name"),
        Column("email", False, "email address"),
        Column("role", False, "collector, manager, head or admin (default collector)"),
        Column("manager", False, "Slack id of their manager: in this file or already imported"),
        Column("timezone", False, "IANA zone, e.g. America/Chicago (blank: Slack's)"),
        Column("daily_call_target", False,
               f"calls a day, 1-{MAX_DAILY_CALLS} (default 25; 0 or blank for managers)"),
        Column("working_days", False, "mon-fri, 1,2,3,4,5 or mon,tue,wed (default mon-fri)"),
        Column("morning_time", False, "HH:MM local time of the morning list"),
        Column("backup", False, "Slack id of who covers when they are away"),
        Column("active", False, "yes/no (default yes)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # A roster is tens of rows: it is kept whole so managers can refer to later lines.
        self.roster: list[Pending[MemberRow]] = []
        # Members whose own row has a bad cell: rows naming them are told so.
        self.refused_ids: set[str] = set()

    def parse(self, cells: Cells) -> MemberRow:
        slack_id = cells.required("slack_user_id", parse_slack_id)
        values: dict[str, Any] = {"name": cells.required("name",
                                                         lambda t: parse_text(t, limit=200))}
        parsers = {"email": parse_email, "timezone": parse_zone, "morning_time": parse_time}
        for name, parse in parsers.items():
            if cells.present(name):
                values[name] = cells.optional(name, parse)
        role = cells.optional("role", lambda t: parse_choice(t, ROLES))
        target = cells.optional("daily_call_target",
                                lambda t: parse_int(t, low=0, high=MAX_DAILY_CALLS))
        days = cells.optional("working_days", parse_working_days)
        active = cells.optional("active", parse_bool)
        manager = cells.optional("manager", parse_slack_id)
        backup = cells.optional("backup", parse_slack_id)
        if slack_id is not None and manager == slack_id:
            cells.problem("manager", "a member cannot be their own manager")
        if slack_id is not None and backup == slack_id:
            cells.problem("backup", "a member cannot be their own backup")
        if slack_id is not None and cells.problems:
            self.refused_ids.add(slack_id)
        cells.check()
        for name, value in (("role", role and Role(role)), ("daily_call_target", target),
                            ("working_days", days), ("active", active)):
            if value is not None:
                values[name] = value
        return MemberRow(must(slack_id), values, manager, backup,
                         cells.present("manager"), cells.present("backup"))

    def write(self, batch: list[Pending[MemberRow]]) -> list[Rejection]:
        self.roster.extend(batch)
        return []

    def finish(self) -> list[Rejection]:
        conn = self.context.conn
        # The roster is small: all of it, so manager chains can be followed through the DB.
        existing = {r.slack_user_id: r for r in conn.execute(select(MEMBERS))}
        screening = _Screening(self.roster, existing, self.refused_ids)
        self._save(screening.accepted(), existing)
        self.context.report.released = _release_books(conn)
        return screening.rejected

    def _save(self, rows: dict[str, Pending[MemberRow]], existing: dict[str, Any]) -> None:
        """Insert the new members, then update what the rows change (managers, backups too)."""
        conn, report, now = self.context.conn, self.context.report, self.context.now
        new = [p for p in rows.values() if p.row.slack_user_id not in existing]
        ids = {slack_id: r.id for slack_id, r in existing.items()}
        if new:
            defaults = {"email": None, "role": Role.COLLECTOR, "timezone": None,
                        "daily_call_target": 25, "working_days": "1,2,3,4,5",
                        "morning_time": None, "active": True}
            created = conn.execute(
                insert(MEMBERS).returning(MEMBERS.c.slack_user_id, MEMBERS.c.id),
                [{**defaults, **p.row.values, "slack_user_id": p.row.slack_user_id,
                  "created_at": now, "updated_at": now} for p in new],
            )
            ids.update(iter(created.tuples()))
        updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for p in rows.values():
            row = p.row
            values = dict(row.values)
            if row.sets_manager:
                values["manager_id"] = ids[row.manager] if row.manager else None
            if row.sets_backup:
                values["backup_id"] = ids[row.backup] if row.backup else None
            current = existing.get(row.slack_user_id)
            if current is None:
                report.counts.created += 1
                values = {k: v for k, v in values.items() if k in ("manager_id", "backup_id")}
                if not any(values.values()):
                    continue
            elif all(getattr(current, k) == v for k, v in values.items()):
                report.counts.unchanged += 1
                continue
            else:
                report.counts.updated += 1
                values["updated_at"] = now
            values["b_id"] = ids[row.slack_user_id]
            updates[tuple(sorted(values))].append(values)
        for same in updates.values():
            conn.execute(update(MEMBERS).where(MEMBERS.c.id == bindparam("b_id")), same)

