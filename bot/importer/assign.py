"""After an import: give every customer without a collector to an active collector, audited."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date
from decimal import Decimal

from sqlalchemy import Connection, and_, bindparam, func, select, update
from sqlalchemy.sql.selectable import Subquery

from bot.db.uow import UnitOfWork
from bot.domain.assignment import CollectorLoad, UnownedAccount, assign_accounts
from bot.domain.vocabulary import CustomerStatus, InvoiceStatus, Role
from bot.importer.base import TABLES
from bot.importer.report import CollectorAssignment

log = logging.getLogger(__name__)

CUSTOMERS = TABLES["customers"]
INVOICES = TABLES["invoices"]
MEMBERS = TABLES["team_members"]
ZERO = Decimal("0.00")
# Customers auto-assignment is for: no collector, not closed.
UNOWNED = (CUSTOMERS.c.collector_id.is_(None), CUSTOMERS.c.status != CustomerStatus.CLOSED)


def _past_due(today: date) -> Subquery:
    """Past-due balance per customer (open invoices due before today)."""
    return (
        select(
            INVOICES.c.customer_id,
            func.sum(INVOICES.c.amount - INVOICES.c.amount_paid).label("past_due"),
        )
        .where(INVOICES.c.status == InvoiceStatus.OPEN, INVOICES.c.due_date < today)
        .group_by(INVOICES.c.customer_id)
        .subquery()
    )


def assign_unowned(
    uow: UnitOfWork, conn: Connection, today: date, *, actor: str
) -> tuple[list[CollectorAssignment], int]:
    """Assign customers that have no collector; (what each collector got, still unassigned)."""
    past_due = _past_due(today)
    unowned_query = (
        select(CUSTOMERS.c.id, func.coalesce(past_due.c.past_due, 0))
        .outerjoin(past_due, past_due.c.customer_id == CUSTOMERS.c.id)
        .where(*UNOWNED)
    )
    members = conn.execute(
        select(MEMBERS.c.id, MEMBERS.c.slack_user_id, MEMBERS.c.name).where(
            MEMBERS.c.role == Role.COLLECTOR, MEMBERS.c.active.is_(True)
        )
    ).all()
    if not members:
        unowned = conn.execute(
            select(func.count()).select_from(CUSTOMERS).where(*UNOWNED)
        ).scalar_one()
        log.info("auto-assignment skipped: no active collector for %d customers", unowned)
        return [], unowned
    accounts = [
        UnownedAccount(customer_id, Decimal(amount).quantize(Decimal("0.01")))
        for customer_id, amount in conn.execute(unowned_query).tuples()
    ]
    if not accounts:
        return [], 0
    load_query = (
        select(
            CUSTOMERS.c.collector_id,
            func.coalesce(func.sum(past_due.c.past_due), 0),
            func.count(CUSTOMERS.c.id),
        )
        .outerjoin(past_due, past_due.c.customer_id == CUSTOMERS.c.id)
        .where(and_(CUSTOMERS.c.collector_id.in_([m.id for m in members])))
        .group_by(CUSTOMERS.c.collector_id)
    )
    loads = {cid: (Decimal(amount), count) for cid, amount, count in conn.execute(load_query)}
    collectors = [
        CollectorLoad(m.id, *loads.get(m.id, (ZERO, 0))) for m in members
    ]
    given = assign_accounts(accounts, collectors)
    conn.execute(
        update(CUSTOMERS).where(CUSTOMERS.c.id == bindparam("b_id")),
        [{"b_id": customer_id, "collector_id": cid} for customer_id, cid in given.items()],
    )
    balance = {a.customer_id: a.past_due for a in accounts}
    by_collector: dict[int, list[int]] = defaultdict(list)
    for customer_id, collector_id in given.items():
        by_collector[collector_id].append(customer_id)
    summary: list[CollectorAssignment] = []
    for member in members:
        customer_ids = by_collector.get(member.id)
        if not customer_ids:
            continue
        total = sum((balance[c] for c in customer_ids), ZERO)
        summary.append(
            CollectorAssignment(member.id, member.slack_user_id, member.name,
                                len(customer_ids), total)
        )
        uow.audit(actor, "assign", "team_member", member.id, accounts=len(customer_ids),
                  past_due=str(total), customer_ids=sorted(customer_ids))
    log.info("auto-assigned %d customers to %d collectors", len(given), len(summary))
    return summary, 0
