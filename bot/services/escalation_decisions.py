"""A manager's decision on an escalation, in the caller's unit of work (never committed here).

Each decision is checked (who may decide, whether someone already did, the new collector), then
written with who and when, audited, and described for the people it concerns. The escalation's
row is locked for the transaction, so of two clicks at once the second sees the first's decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Customer, Escalation, EscalationStep, TeamMember
from bot.db.uow import UnitOfWork
from bot.domain.calendar import local_date
from bot.domain.escalation_decisions import (
    HANDED_OUT,
    SNOOZE_DAYS,
    Decider,
    Decision,
    decision_words,
    may_decide,
)
from bot.domain.vocabulary import EscalationStatus, Role
from bot.services import roster
from bot.services.errors import InvalidInput, NotAllowed, NotFound, ServiceError
from bot.services.escalation_replies import withdraw_replies
from bot.services.escalations import close_escalation
from bot.services.refresh import lists_showing
from bot.views.text import inline

logger = logging.getLogger(__name__)

NAME_CHARS = 60


class AlreadyDecided(ServiceError):
    """Someone decided first (or the escalation closed by itself): nothing changes."""


@dataclass(frozen=True, slots=True)
class DecisionRequest:
    """What was asked: the decision, and its collector (reassign), days and reason (snooze) or
    note (resolve)."""

    escalation_id: int
    decision: Decision
    collector_slack_id: str | None = None
    days: int | None = None
    text: str | None = None


@dataclass(frozen=True)
class Decided:
    """A decision as written: who is told what, and what to re-render."""

    escalation_id: int
    customer_id: int
    confirmation: str
    tell: list[tuple[str, str]] = field(default_factory=list)  # (slack id, text) DMs
    homes: set[str] = field(default_factory=set)
    call_list_ids: set[int] = field(default_factory=set)
    key: str = ""  # unique to this decision: the DMs' delivery keys start with it


def _label(customer: Customer) -> str:
    return f"*{inline(customer.name, 80)}* ({inline(customer.external_ref, 30)})"


def _at(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local.day} {local:%b} {local:%H:%M}"


def escalation_for_decision(session: Session, escalation_id: int, *, lock: bool = True
                            ) -> Escalation:
    """The escalation (locked for this transaction unless a reader asks); NotFound when it
    does not exist."""
    escalation = session.get(Escalation, escalation_id, with_for_update=lock,
                             populate_existing=True)
    if escalation is None:
        raise NotFound(f"Escalation {escalation_id} does not exist (any more).")
    return escalation


def require_may_decide(
    session: Session, member: TeamMember, customer: Customer, escalation: Escalation
) -> None:
    """NotAllowed unless the member is the account's manager, a manager above, someone the
    escalation went up to, or an admin."""
    manager_of: dict[int, int | None] = dict(
        session.execute(select(TeamMember.id, TeamMember.manager_id)).tuples().all())
    holders = set(session.scalars(
        select(EscalationStep.holder_id).where(EscalationStep.escalation_id == escalation.id,
                                               EscalationStep.holder_id.is_not(None))))
    if may_decide(Decider(member.id, member.role), customer.collector_id, manager_of,
                  {h for h in holders if h is not None}):
        return
    raise NotAllowed(
        f"Only the manager of {_label(customer)}, the managers above them, whoever it went "
        "up to or an admin can decide on its escalation. Nothing was changed.")


def require_undecided(
    session: Session, escalation: Escalation, decision: Decision, *, zone: ZoneInfo, today: date
) -> None:
    """AlreadyDecided when a decision (or the rules) closed it, or when it is snoozed and the
    request is another snooze."""
    if escalation.status is EscalationStatus.OPEN:
        snoozed = escalation.snoozed_until is not None and escalation.snoozed_until > today
        if not (snoozed and decision is Decision.SNOOZE and escalation.decided_at):
            return
    by = session.get(TeamMember, escalation.decided_by_id) if escalation.decided_by_id else None
    when = escalation.decided_at or escalation.closed_at
    at = f" at {_at(when, zone)}" if when else ""
    if by is None:
        raise AlreadyDecided(f"This escalation already closed by itself{at}: "
                             f"{inline(escalation.close_reason or 'its causes are gone', 200)}.")
    what = (escalation.close_reason if escalation.status is not EscalationStatus.OPEN
            else f"snoozed until {escalation.snoozed_until}")
    raise AlreadyDecided(f"Already decided by {inline(by.name, NAME_CHARS)}{at}: "
                         f"{inline(what or '', 200)}. Nothing was changed.")


def _collector_to_take(session: Session, slack_id: str, customer: Customer) -> TeamMember:
    """The active collector an account may be reassigned to; InvalidInput naming the problem."""
    target = session.scalars(
        select(TeamMember).where(TeamMember.slack_user_id == slack_id)).first()
    if target is None or not target.active:
        raise InvalidInput(f"<@{slack_id}> is not an active member of the collections roster.")
    if target.role is not Role.COLLECTOR:
        raise InvalidInput(f"{inline(target.name, NAME_CHARS)} is a {target.role.value}, not a "
                           "collector; pick an active collector (or Take over).")
    if customer.collector_id == target.id:
        raise InvalidInput(f"{_label(customer)} is already {inline(target.name, NAME_CHARS)}'s "
                           "account.")
    return target


def check_reassign(session: Session, slack_id: str, escalation_id: int) -> None:
    """Refuse a reassignment's collector before the form closes (InvalidInput)."""
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        raise NotFound(f"Escalation {escalation_id} does not exist (any more).")
    _collector_to_take(session, slack_id, session.get_one(Customer, escalation.customer_id))


@dataclass
class _Change:
    uow: UnitOfWork
    member: TeamMember
    escalation: Escalation
    customer: Customer
    request: DecisionRequest
    now: datetime
    today: date
    previous: TeamMember | None
    new_collector: TeamMember | None = None

    @property
    def by(self) -> str:
        return self.member.name

    def close(self, words: str) -> None:
        close_escalation(self.uow, self.escalation, status=EscalationStatus.DECIDED,
                         reason=words, now=self.now, actor=self.member.slack_user_id,
                         decision=self.request.decision.value, decided_by_id=self.member.id)

    def move_to(self, collector: TeamMember) -> None:
        self.customer.collector_id = collector.id
        self.new_collector = collector
        self.uow.audit(self.member.slack_user_id, "customer.assigned", "customer",
                       self.customer.id, collector_id=collector.id,
                       previous_collector_id=self.previous.id if self.previous else None,
                       escalation_id=self.escalation.id)


def _apply(change: _Change) -> str:
    """Write the decision; its words."""
    request, by = change.request, change.by
    decision = request.decision
    if decision is Decision.REASSIGN:
        target = _collector_to_take(change.uow.session, request.collector_slack_id or "",
                                    change.customer)
        change.move_to(target)
        words = decision_words(decision, by=by, collector=target.name)
    elif decision is Decision.TAKE_OVER:
        if change.customer.collector_id == change.member.id:
            raise InvalidInput(f"{_label(change.customer)} is already your account.")
        change.move_to(change.member)
        words = decision_words(decision, by=by)
    elif decision is Decision.SNOOZE:
        return _snooze(change)
    elif decision in HANDED_OUT:
        status = HANDED_OUT[decision]
        previous_status = change.customer.status
        change.customer.status = status
        change.uow.audit(change.member.slack_user_id, "customer.status_changed", "customer",
                         change.customer.id, status=status.value,
                         previous_status=previous_status.value,
                         escalation_id=change.escalation.id)
        words = decision_words(decision, by=by)
    else:
        words = decision_words(decision, by=by, text=request.text)
    change.close(words)
    return words


def _snooze(change: _Change) -> str:
    days = change.request.days
    if days not in SNOOZE_DAYS:
        raise InvalidInput("Snooze for 7, 14 or 30 days.")
    until = change.today + timedelta(days=days)
    escalation = change.escalation
    words = decision_words(Decision.SNOOZE, by=change.by, until=until, text=change.request.text)
    escalation.snoozed_until, escalation.snooze_note = until, change.request.text
    escalation.decision, escalation.decided_by_id = Decision.SNOOZE.value, change.member.id
    escalation.decided_at = escalation.updated_at = change.now
    change.uow.audit(change.member.slack_user_id, "escalation.snoozed", "escalation",
                     escalation.id, customer_id=escalation.customer_id,
                     until=until.isoformat(), reason=change.request.text)
    withdraw_replies(change.uow.session, escalation.id, why="snoozed before it was sent",
                     now=change.now)
    return words


def decide(
    uow: UnitOfWork, *, actor_slack_id: str, request: DecisionRequest, now: datetime,
    default_tz: str | ZoneInfo,
) -> Decided:
    """Check and write one decision (not committed); AlreadyDecided, NotAllowed, InvalidInput
    change nothing."""
    session = uow.session
    member = roster.member_for(session, actor_slack_id)
    zone = roster.member_zone(member, default_tz)
    escalation = escalation_for_decision(session, request.escalation_id)
    customer = session.get_one(Customer, escalation.customer_id)
    require_may_decide(session, member, customer, escalation)
    today = local_date(now, zone)
    require_undecided(session, escalation, request.decision, zone=zone, today=today)
    lists = lists_showing(session, [customer.id], now=now, default_tz=default_tz)
    change = _Change(uow, member, escalation, customer, request, now, today, customer.collector)
    words = _apply(change)
    session.flush()
    logger.info("escalation %s: %s", escalation.id, request.decision.value,
                extra={"account": customer.external_ref})
    return _decided(change, words, lists)


def _decided(change: _Change, words: str, lists: set[int]) -> Decided:
    label = _label(change.customer)
    tell = _tell(change, label, words)
    homes = {change.member.slack_user_id, *(slack for slack, _ in tell)}
    if change.escalation.recipient and change.escalation.recipient[:1] in ("U", "W"):
        homes.add(change.escalation.recipient)
    key = (f"escalation-decision:{change.escalation.id}:{change.request.decision.value}:"
           f"{int(change.now.timestamp())}")
    return Decided(change.escalation.id, change.customer.id,
                   f"Escalation of {label}: {inline(words, 700)}.", tell, homes, lists, key)


def _tell(change: _Change, label: str, words: str) -> list[tuple[str, str]]:
    """The DMs: the collector (the previous one and the new one when it moves), never the
    manager who decided."""
    by = inline(change.by, NAME_CHARS)
    decision = change.request.decision
    previous, new = change.previous, change.new_collector
    lines: list[tuple[str, str]] = []
    if previous is not None:
        if decision in (Decision.REASSIGN, Decision.TAKE_OVER) and new is not None:
            text = (f"{by} moved {label} from you to {inline(new.name, NAME_CHARS)} "
                    "(its escalation was decided). It leaves your lists.")
        elif decision in HANDED_OUT:
            text = f"The escalation of {label} was {inline(words, 300)}. It leaves your lists."
        elif decision is Decision.SNOOZE:
            text = (f"The escalation of {label} was {inline(words, 700)}. The account stays on "
                    "your lists.")
        else:
            text = f"The escalation of {label} was {inline(words, 700)}."
        lines.append((previous.slack_user_id, text))
    if new is not None and new.id != change.member.id:
        reason = inline(change.escalation.reason, 300)
        lines.append((new.slack_user_id, f"{by} gave you {label} after its escalation "
                      f"({reason}). It is on your lists from the next one."))
    return [(slack, text) for slack, text in lines if slack != change.member.slack_user_id]
