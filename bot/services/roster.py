"""Who is acting: the roster member behind a Slack user, and what they may do."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, Select, select
from sqlalchemy.orm import Session, aliased

from bot.db.models import Customer, Delivery, Escalation, EscalationStep, TeamMember
from bot.domain.calendar import local_date, resolve_timezone
from bot.domain.vocabulary import EscalationStatus, Role
from bot.services.deliveries import call_list_key
from bot.services.errors import NotAllowed, NotFound, NotOnRoster
from bot.views.text import inline

MANAGING_ROLES = frozenset({Role.MANAGER, Role.HEAD, Role.ADMIN})


def member_for(session: Session, slack_user_id: str) -> TeamMember:
    """The active roster member with this Slack user id; NotOnRoster otherwise."""
    member = session.scalars(
        select(TeamMember).where(TeamMember.slack_user_id == slack_user_id)
    ).first()
    if member is None or not member.active:
        raise NotOnRoster()
    return member


def member_zone(member: TeamMember, default_tz: str | ZoneInfo) -> ZoneInfo:
    """The one resolver of a person's zone: the roster's, else Slack's `tz` as cached on the
    member by the call-lists job, else the team default. The job, the commands, the buttons
    and the App Home all use it, so they agree on the person's "today"."""
    return resolve_timezone(member.timezone, member.slack_timezone, default_tz)


def member_zones(
    conn: Connection | Session, member_ids: Iterable[int], default_tz: str | ZoneInfo
) -> dict[int, ZoneInfo]:
    """Member id -> zone, resolved as member_zone does, in one query (for bulk work)."""
    rows = conn.execute(
        select(TeamMember.id, TeamMember.timezone, TeamMember.slack_timezone)
        .where(TeamMember.id.in_(sorted(set(member_ids))))
    ).tuples()
    return {
        member_id: resolve_timezone(roster_tz, slack_tz, default_tz)
        for member_id, roster_tz, slack_tz in rows
    }


def member_today(member: TeamMember, now: datetime, default_tz: str | ZoneInfo) -> date:
    """The member's local date at `now`, in the zone member_zone resolves."""
    return local_date(now, member_zone(member, default_tz))


def is_manager(member: TeamMember) -> bool:
    return member.role in MANAGING_ROLES


def require_manager(member: TeamMember) -> None:
    """NotAllowed unless the member is a manager or an admin."""
    if not is_manager(member):
        raise NotAllowed("That is for managers and admins.")


def manages(member: TeamMember, collector: TeamMember | None) -> bool:
    """An admin manages everyone; a manager the collectors who report to them (and themself)."""
    if member.role is Role.ADMIN:
        return True
    if collector is None:
        # Nobody owns the account yet, so any manager may take it in hand.
        return member.role is Role.MANAGER
    if collector.id == member.id:
        return True
    return member.role is Role.MANAGER and collector.manager_id == member.id


def can_act_on(member: TeamMember, customer: Customer, *, covering: bool = False) -> bool:
    """The account's collector, their manager, or an admin; their backup only while covering
    (today's list of the collector went to the backup)."""
    if customer.collector_id is not None and customer.collector_id == member.id:
        return True
    collector = customer.collector
    if covering and collector is not None and collector.backup_id == member.id:
        return True
    return manages(member, collector)


def covering_today(
    session: Session, member: TeamMember, customer: Customer, *, now: datetime,
    default_tz: str | ZoneInfo,
) -> bool:
    """True when the member is the account's collector's backup and today's list of that
    collector (their local today) was sent to the member because the collector is out."""
    collector = customer.collector
    if collector is None or collector.backup_id != member.id:
        return False
    local_day = member_today(collector, now, default_tz)
    delivery = session.scalar(
        select(Delivery).where(Delivery.key == call_list_key(collector.slack_user_id, local_day))
    )
    return delivery is not None and delivery.recipient == member.slack_user_id


def require_can_act(member: TeamMember, customer: Customer, *, covering: bool = False) -> None:
    """NotAllowed naming who owns the account, unless the member may act on it."""
    if can_act_on(member, customer, covering=covering):
        return
    label = f"{inline(customer.name, 80)} ({inline(customer.external_ref, 30)})"
    if customer.collector is None:
        raise NotAllowed(f"{label} has no collector yet; a manager or an admin can assign it.")
    raise NotAllowed(
        f"{label} is {inline(customer.collector.name, 40)}'s account; only they, their manager "
        "or an admin can change it."
    )


def collector_for_assignment(
    session: Session, actor: TeamMember, slack_user_id: str
) -> TeamMember:
    """The active collector an account may be handed to by this manager or admin."""
    target = session.scalars(
        select(TeamMember).where(TeamMember.slack_user_id == slack_user_id)
    ).first()
    if target is None or not target.active:
        raise NotFound(f"<@{slack_user_id}> is not an active member of the collections roster.")
    if target.role is not Role.COLLECTOR:
        raise NotAllowed(f"{inline(target.name, 40)} is a {target.role.value}, not a collector.")
    if actor.role is not Role.ADMIN and target.manager_id != actor.id:
        raise NotAllowed(f"{inline(target.name, 40)} does not report to you; ask an admin.")
    return target


def open_escalations_for(member: TeamMember) -> Select[tuple[Escalation, Customer, str]]:
    """The open escalations a member sees, oldest first, with each account's collector name
    (None when unassigned).

    An admin sees every one; anyone else those on accounts of the collectors they manage
    (active or not), on their own accounts, and on accounts nobody is assigned to.
    """
    collector = aliased(TeamMember)
    query = (
        select(Escalation, Customer, collector.name)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(collector, collector.id == Customer.collector_id)
        .where(Escalation.status == EscalationStatus.OPEN)
        .order_by(Escalation.created_at, Escalation.id)
    )
    if member.role is not Role.ADMIN:
        query = query.where(
            (collector.manager_id == member.id)
            | (Customer.collector_id == member.id)
            | Customer.collector_id.is_(None)
            # Escalations that went up to the member (a manager above, a head).
            | Escalation.id.in_(select(EscalationStep.escalation_id)
                                .where(EscalationStep.holder_id == member.id))
        )
    return query


def team_of(session: Session, member: TeamMember) -> list[TeamMember]:
    """Active collectors the member manages (every active collector for an admin), by name."""
    query = select(TeamMember).where(
        TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR
    )
    if member.role is not Role.ADMIN:
        query = query.where(TeamMember.manager_id == member.id)
    return list(session.scalars(query.order_by(TeamMember.name, TeamMember.id)))
