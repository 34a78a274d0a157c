"""Hand-offs, run by the hourly escalation job in its unit of work after the rules.

An active account whose segment sets `handoff_after` and that had that many attempts without
result (since it was last reached, and since its last hand-off) moves to another active
collector: the least loaded in past-due money, on its collector's team when there is one,
never the same. The move is audited; after the commit both collectors get a DM (once per
move) and both lists say so: the previous collector's list today ("handed over to Ana after 6
attempts"), the new collector's lists for a week ("handed over from Ben after 6 attempts").
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import CallListEntry, ContactAttempt, Customer, Invoice, TeamMember
from bot.db.uow import UnitOfWork
from bot.domain.handoff import handed_from, handed_to, handoff_due, least_loaded
from bot.domain.vocabulary import CALL_OUTCOMES, InvoiceStatus, Role
from bot.services import roster
from bot.services.call_lists import todays_call_list_for
from bot.services.deliveries import OutgoingMessage, deliver
from bot.slack.client import SlackGateway
from bot.views.text import inline

logger = logging.getLogger(__name__)

ACTOR = "scheduler"
DM_KIND = "handoff"
REASON_CHARS = 300


@dataclass(frozen=True)
class Move:
    """One account handed from one collector to another."""

    customer_id: int
    account: str  # "*Name* (REF)", escaped
    from_slack_id: str
    from_name: str
    to_slack_id: str
    to_name: str
    attempts: int
    at: datetime
    call_list_ids: tuple[int, ...] = ()


@dataclass
class HandoffRun:
    moves: list[Move] = field(default_factory=list)
    told: int = 0

    def summary(self) -> str:
        return f"{len(self.moves)} handed over" if self.moves else ""


def _loads(session: Session, collectors: list[TeamMember], today_utc: datetime
           ) -> dict[int, Decimal]:
    """Each collector's past-due money (open invoices due before today)."""
    ids = [member.id for member in collectors]
    rows = session.execute(
        select(Customer.collector_id, func.sum(Invoice.amount - Invoice.amount_paid))
        .join(Invoice, Invoice.customer_id == Customer.id)
        .where(Customer.collector_id.in_(ids), Invoice.status == InvoiceStatus.OPEN,
               Invoice.due_date < today_utc.date())
        .group_by(Customer.collector_id)).all()
    found = {member: Decimal(total or 0) for member, total in rows}
    return {member: found.get(member, Decimal("0.00")) for member in ids}


def _takers(session: Session, current: TeamMember) -> list[TeamMember]:
    """Active collectors who may take the account: its collector's team first, else anyone."""
    everyone = list(session.scalars(select(TeamMember).where(
        TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR,
        TeamMember.id != current.id)))
    team = [m for m in everyone if current.manager_id and m.manager_id == current.manager_id]
    return team or everyone


def _attempts_since(session: Session, customer: Customer, unreached: int) -> int:
    """Attempts without result since the last hand-off (all since the last reach, if none)."""
    if customer.handed_over_at is None:
        return unreached
    since = session.scalar(select(func.count()).where(
        ContactAttempt.customer_id == customer.id, ContactAttempt.at > customer.handed_over_at,
        ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))) or 0
    return min(unreached, int(since))


def run_handoffs(
    uow: UnitOfWork, candidates: Mapping[int, tuple[int, int]], *, now: datetime,
    team_zone: str | ZoneInfo,
) -> HandoffRun:
    """Hand off every candidate (customer -> (attempts without result, handoff_after)) still
    due; not committed."""
    session = uow.session
    run = HandoffRun()
    for customer_id, (unreached, after) in sorted(candidates.items()):
        customer = session.get(Customer, customer_id)
        current = customer.collector if customer is not None else None
        if customer is None or current is None:
            continue
        attempts = _attempts_since(session, customer, unreached)
        if not handoff_due(attempts, after):
            continue
        takers = _takers(session, current)
        target_id = least_loaded(_loads(session, takers, now), current.id)
        if target_id is None:
            continue
        target = session.get_one(TeamMember, target_id)
        run.moves.append(_move(uow, customer, current, target, attempts, now, team_zone))
    return run


def _move(  # noqa: PLR0913, PLR0917 (one move's parts)
    uow: UnitOfWork, customer: Customer, current: TeamMember, target: TeamMember,
    attempts: int, now: datetime, team_zone: str | ZoneInfo,
) -> Move:
    session = uow.session
    old_list = todays_call_list_for(session, current, now=now,
                                    tz=roster.member_zone(current, team_zone))
    lists: tuple[int, ...] = ()
    if old_list is not None:
        entry = session.scalars(select(CallListEntry).where(
            CallListEntry.call_list_id == old_list.id,
            CallListEntry.customer_id == customer.id)).first()
        if entry is not None:
            entry.reason = f"{handed_to(target.name, attempts)} · {entry.reason}"[:REASON_CHARS]
            lists = (old_list.id,)
    customer.collector_id = target.id
    customer.handed_over_at, customer.handed_over_from_id = now, current.id
    customer.handover_attempts = attempts
    uow.audit(ACTOR, "customer.handed_over", "customer", customer.id,
              collector_id=target.id, previous_collector_id=current.id, attempts=attempts)
    logger.info("customer %s handed over from member %s to %s after %s attempts", customer.id,
                current.id, target.id, attempts, extra={"account": customer.external_ref})
    account = f"*{inline(customer.name, 80)}* ({inline(customer.external_ref, 30)})"
    return Move(customer.id, account, current.slack_user_id, current.name,
                target.slack_user_id, target.name, attempts, now, lists)


def tell_collectors(database: Database, gateway: SlackGateway, run: HandoffRun) -> HandoffRun:
    """After the commit: both collectors of each move get a DM, once per move."""
    for move in run.moves:
        stamp = int(move.at.timestamp())
        to_name, from_name = inline(move.to_name, 60), inline(move.from_name, 60)
        for slack_id, text in (
            (move.from_slack_id, f"{move.account} was {handed_to(to_name, move.attempts)} "
             "without result; it leaves your lists."),
            (move.to_slack_id, f"{move.account} is yours now: "
             f"{handed_from(from_name, move.attempts)} without result."),
        ):
            key = f"handoff:{move.customer_id}:{stamp}:{slack_id}"
            result = deliver(database, gateway, key=key, kind=DM_KIND, recipient=slack_id,
                             messages=[OutgoingMessage(text)], now=move.at)
            run.told += result.status == "sent"
    return run
