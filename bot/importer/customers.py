"""Customer import: upsert by external_ref; a collector named by Slack id, name or email."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, select, update

from bot.db.sql import key_in
from bot.domain.vocabulary import CustomerStatus, Role
from bot.importer.base import (
    IN_CHUNK,
    TABLES,
    BulkInsert,
    Cells,
    KindImporter,
    Pending,
    Rejection,
    TouchedIds,
    drop_repeats,
    must,
)
from bot.importer.source import Column
from bot.importer.values import parse_choice, parse_email, parse_key, parse_text

CUSTOMERS = TABLES["customers"]
MEMBERS = TABLES["team_members"]
STATUSES = frozenset(s.value for s in CustomerStatus)
# A blank cell in these columns clears the stored value; elsewhere a blank keeps it.
CLEARABLE = ("contact_name", "phone", "email")
NEW: dict[str, Any] = {
    "tier": "standard", "status": CustomerStatus.ACTIVE, "collector_id": None,
    "contact_name": None, "phone": None, "email": None,
}
INSERTED = ("external_ref", "name", *NEW, "created_at", "updated_at")


@dataclass(frozen=True, slots=True)
class CustomerRow:
    external_ref: str
    values: dict[str, Any]  # the columns this row sets
    collector: str | None


class CustomerImporter(KindImporter[CustomerRow]):
    kind = "customers"
    columns = (
        Column("external_ref", True, "the customer's id in your ledger; the key for re-imports"),
        Column("name", True, "customer name"),
        Column("contact_name", False, "person to call (blank clears)"),
        Column("phone", False, "phone number (blank clears)"),
        Column("email", False, "email address (blank clears)"),
        Column("tier", False, "segment used by policy, e.g. standard, key (blank keeps)"),
        Column("status", False, "active, on_hold, agency, legal, closed (blank keeps)"),
        Column("collector", False,
               "Slack user id, name or email of a team member (blank keeps or auto-assigns)"),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.touched = TouchedIds(self.context.conn, CUSTOMERS)
        self._insert = BulkInsert(self.context.conn, CUSTOMERS, INSERTED)
        self._members: dict[str, list[int]] | None = None
        self._not_collecting: dict[int, str] = {}  # member id -> why they hold no accounts

    def parse(self, cells: Cells) -> CustomerRow:
        ref = cells.required("external_ref", lambda t: parse_key(t, limit=64))
        name = cells.required("name", lambda t: parse_text(t, limit=200))
        values: dict[str, Any] = {"name": name}
        limits = {"contact_name": 200, "phone": 50}
        for name in CLEARABLE:
            if cells.present(name):
                parse = parse_email if name == "email" else (
                    lambda t, n=limits[name]: parse_text(t, limit=n)
                )
                values[name] = cells.optional(name, parse)
        tier = cells.optional("tier", lambda t: parse_text(t, limit=20).lower())
        status = cells.optional("status", lambda t: parse_choice(t, STATUSES))
        collector = cells.optional("collector", lambda t: parse_text(t, limit=200))
        cells.check()
        if tier is not None:
            values["tier"] = tier
        if status is not None:
            values["status"] = CustomerStatus(status)
        return CustomerRow(must(ref), values, collector)

    def _member_index(self) -> dict[str, list[int]]:
        """Slack id, lower-cased name and email -> team member ids (the roster is small)."""
        if self._members is None:
            index: dict[str, list[int]] = defaultdict(list)
            query = select(MEMBERS.c.id, MEMBERS.c.slack_user_id, MEMBERS.c.name,
                           MEMBERS.c.email, MEMBERS.c.role, MEMBERS.c.active)
            for member_id, slack_id, name, email, role, active in self.context.conn.execute(
                query
            ).tuples():
                if not active:
                    self._not_collecting[member_id] = f"{slack_id} is inactive"
                elif role != Role.COLLECTOR:
                    self._not_collecting[member_id] = (f"{slack_id} is a {Role(role).value}; "
                                                       "only collectors hold accounts")
                index[slack_id].append(member_id)
                index[name.strip().lower()].append(member_id)
                if email:
                    index[email.strip().lower()].append(member_id)
            self._members = {k: sorted(set(v)) for k, v in index.items()}
        return self._members

    def _collector_id(self, text: str) -> int | str:
        """The member id, or why the text names no single member."""
        members = self._member_index()
        found = members.get(text) or members.get(text.lower()) or []
        if len(found) == 1:
            return self._not_collecting.get(found[0], found[0])
        if not found:
            return f"no team member {text!r} (Slack id, name or email; import the team first)"
        return f"{text!r} names {len(found)} team members; use the Slack user id"

    def write(self, batch: list[Pending[CustomerRow]]) -> list[Rejection]:
        unique, rejected = drop_repeats(batch, lambda r: r.external_ref, "external_ref", "customer")
        rows = self._with_collectors(unique, rejected)
        rejected.sort(key=lambda r: r.line)  # repeats and unknown collectors, in file order
        existing = self._existing([p.row.external_ref for p, _ in rows])
        inserts, updates = self._changes(rows, existing, rejected)
        self._insert(inserts)
        self._update(updates)
        return rejected

    def _with_collectors(
        self, unique: list[Pending[CustomerRow]], rejected: list[Rejection]
    ) -> list[tuple[Pending[CustomerRow], dict[str, Any]]]:
        """Each row with the values to store, its collector resolved to an id; a row naming
        no single member is rejected."""
        rows: list[tuple[Pending[CustomerRow], dict[str, Any]]] = []
        for p in unique:
            values = dict(p.row.values)
            if p.row.collector is not None:
                collector = self._collector_id(p.row.collector)
                if isinstance(collector, str):
                    rejected.append(Rejection(p.line, p.cells, "collector", collector))
                    continue
                values["collector_id"] = collector
            rows.append((p, values))
        return rows

    def _existing(self, refs: list[str]) -> dict[str, Any]:
        """The stored customers with these references, by reference."""
        conn = self.context.conn
        existing: dict[str, Any] = {}
        for start in range(0, len(refs), IN_CHUNK):
            query = select(CUSTOMERS).where(
                key_in(conn, CUSTOMERS.c.external_ref, refs[start : start + IN_CHUNK])
            )
            existing.update((r.external_ref, r) for r in conn.execute(query))
        return existing

    def _changes(
        self,
        rows: list[tuple[Pending[CustomerRow], dict[str, Any]]],
        existing: dict[str, Any],
        rejected: list[Rejection],
    ) -> tuple[list[tuple[Any, ...]], list[dict[str, Any]]]:
        """(rows to insert, updates), counted in the report; a customer already written by
        this file is rejected."""
        report, now = self.context.report, self.context.now
        inserts: list[tuple[Any, ...]] = []
        updates: list[dict[str, Any]] = []
        for p, values in rows:
            current = existing.get(p.row.external_ref)
            if current is None:
                given = {**NEW, **values, "external_ref": p.row.external_ref,
                         "created_at": now, "updated_at": now}
                inserts.append(tuple(given[c] for c in INSERTED))
                report.counts.created += 1
                continue
            if not self.touched.add(current.id):
                rejected.append(Rejection(p.line, p.cells, "external_ref",
                                          f"customer {p.row.external_ref} appears earlier "
                                          "in the file"))
                continue
            if all(getattr(current, k) == v for k, v in values.items()):
                report.counts.unchanged += 1
                continue
            report.counts.updated += 1
            updates.append({**values, "b_id": current.id, "updated_at": now})
        return inserts, updates

    def _update(self, updates: list[dict[str, Any]]) -> None:
        # Rows set different columns (absent vs blank cells), so group updates by shape.
        shapes: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
        for values in updates:
            shapes[tuple(sorted(values))].append(values)
        for same in shapes.values():
            self.context.conn.execute(
                update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id")), same)
