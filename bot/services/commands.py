"""What each `/collect` subcommand does: one function per subcommand, over plain arguments.

Each takes the caller's unit of work (or session, for reads) and the acting member, and returns
plain data for a view in `bot.views.replies`; none commits. The entry point that owns the unit of
work commits, then refreshes what shows a change (`bot.services.refresh`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Customer, TeamMember
from bot.db.uow import UnitOfWork
from bot.domain.accounts import AccountMatch, AccountSummary
from bot.domain.calendar import local_date
from bot.domain.vocabulary import Outcome, Role
from bot.services import roster
from bot.services.accounts import account_summary, find_accounts, resolve_account
from bot.services.call_lists import call_list_view, todays_call_list_for
from bot.services.errors import NotFound
from bot.services.outcomes import assign, record_outcome
from bot.services.stats import my_stats, team_progress
from bot.views.home import CollectorProgress, MyStats
from bot.views.modals import DisputeInput, PromiseInput
from bot.views.replies import (
    AccountRef,
    Assigned,
    EscalationLine,
    OpenEscalations,
    Recorded,
    TodaysList,
)
from bot.views.text import inline

MAX_LINES = 20


@dataclass(frozen=True, slots=True)
class Actor:
    """Who runs the command, in their own zone, at which instant."""

    member: TeamMember
    now: datetime
    default_tz: str | ZoneInfo

    @property
    def zone(self) -> ZoneInfo:
        return roster.member_zone(self.member, self.default_tz)

    @property
    def today(self) -> date:
        return local_date(self.now, self.zone)

    @property
    def slack_id(self) -> str:
        return self.member.slack_user_id


def _ref(customer: Customer) -> AccountRef:
    return AccountRef(customer.id, customer.external_ref, customer.name)


def _record(
    uow: UnitOfWork,
    actor: Actor,
    account: str,
    outcome: Outcome,
    *,
    note: str | None = None,
    promise: PromiseInput | None = None,
    dispute: DisputeInput | None = None,
) -> Customer:
    customer = resolve_account(uow.session, account)
    record_outcome(
        uow, actor_slack_id=actor.slack_id, customer_id=customer.id, outcome=outcome,
        source="command", now=actor.now, default_tz=actor.default_tz, note=note,
        promise=promise, dispute=dispute,
    )
    return customer


def todays_list(session: Session, actor: Actor) -> TodaysList:
    """`/collect list`: the list made for the actor's local today, as it reads now."""
    call_list = todays_call_list_for(session, actor.member, now=actor.now, tz=actor.zone)
    view = call_list_view(session, call_list.id, now=actor.now) if call_list else None
    return TodaysList(
        view, actor.today.isoweekday() in actor.member.weekdays, actor.member.morning_time
    )


def log_call(
    uow: UnitOfWork, actor: Actor, account: str, outcome: Outcome, note: str | None
) -> Recorded:
    """`/collect log`: one contact attempt with its outcome."""
    customer = _record(uow, actor, account, outcome, note=note)
    return Recorded(_ref(customer), outcome)


def promise_to_pay(
    uow: UnitOfWork, actor: Actor, account: str, amount: Decimal, promised_date: date
) -> Recorded:
    """`/collect promise`: a promise to pay (the rules check amount and date)."""
    promise = PromiseInput(amount, promised_date)
    customer = _record(uow, actor, account, Outcome.PROMISE_TO_PAY, promise=promise)
    return Recorded(_ref(customer), Outcome.PROMISE_TO_PAY, promise=promise)


def open_dispute(
    uow: UnitOfWork, actor: Actor, account: str, reason: str, note: str | None
) -> Recorded:
    """`/collect dispute`: a dispute over every open invoice not already in one."""
    dispute = DisputeInput(reason, (), note)
    customer = _record(uow, actor, account, Outcome.DISPUTE, dispute=dispute)
    return Recorded(_ref(customer), Outcome.DISPUTE, dispute=dispute)


def add_note(uow: UnitOfWork, actor: Actor, account: str, text: str) -> Recorded:
    """`/collect note`: a note in the account's history."""
    customer = _record(uow, actor, account, Outcome.NOTE, note=text)
    return Recorded(_ref(customer), Outcome.NOTE)


def find(session: Session, text: str) -> list[AccountMatch]:
    """`/collect find`: accounts whose name or reference contains the text."""
    return find_accounts(session, text, limit=MAX_LINES)


def account(session: Session, actor: Actor, account: str) -> AccountSummary:
    """`/collect account`: the account's balances, aging, promises and last attempts."""
    customer = resolve_account(session, account)
    return account_summary(session, customer.id, today=actor.today)


def stats(session: Session, actor: Actor) -> MyStats:
    """`/collect stats`: the actor's calls today and this week against target."""
    return my_stats(session, actor.member, now=actor.now, default_tz=actor.default_tz)


def _collector_named(session: Session, name: str) -> str:
    wanted = name.lower()
    members = session.scalars(
        select(TeamMember).where(TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR)
    ).all()
    exact = [m for m in members if m.name.lower() == wanted]
    first = [m for m in members if m.name.lower().split(" ")[0] == wanted]
    found = exact or first
    if len(found) != 1:
        raise NotFound(f"Mention the collector (@name) so Slack sends who it is; "
                       f"'{inline(name, 40)}' names {len(found)} collectors.")
    return found[0].slack_user_id


def assign_account(
    uow: UnitOfWork, actor: Actor, account: str, collector: str, *, by_name: bool
) -> Assigned:
    """`/collect assign` (managers): hand the account to a collector, by Slack id or name."""
    roster.require_manager(actor.member)
    customer = resolve_account(uow.session, account)
    slack_id = _collector_named(uow.session, collector) if by_name else collector
    change = assign(uow, actor_slack_id=actor.slack_id, customer_id=customer.id,
                    collector_slack_id=slack_id, now=actor.now)
    return Assigned(
        _ref(customer), slack_id, change.collector_name, change.previous_collector_name
    )


def team(session: Session, actor: Actor) -> list[CollectorProgress]:
    """`/collect team` (managers): today's calls of each collector they manage."""
    roster.require_manager(actor.member)
    return team_progress(session, actor.member, now=actor.now, default_tz=actor.default_tz)


def escalations(session: Session, actor: Actor) -> OpenEscalations:
    """`/collect escalations` (managers): the open escalations they see, oldest first."""
    roster.require_manager(actor.member)
    rows = session.execute(
        roster.open_escalations_for(actor.member).limit(MAX_LINES + 1)
    ).all()
    lines = [
        EscalationLine(
            escalation.level, _ref(customer), escalation.reason, collector_name,
            local_date(escalation.created_at, actor.zone), escalation.id,
            escalation.snoozed_until if escalation.snoozed_until
            and escalation.snoozed_until > actor.today else None,
        )
        for escalation, customer, collector_name in rows[:MAX_LINES]
    ]
    return OpenEscalations(lines, more=len(rows) > MAX_LINES)
