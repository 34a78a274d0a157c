"""Escalations to their managers: planned under the job's lock, sent through the outbox.

Planning (in the job's unit of work, after the rules ran) gives each open escalation that
nobody was told of yet the key of the message that will show it: its own
(`escalation:ID:STEP`, one per escalation and step up the roster) while its recipient has at
most `COLLECTBOT_ESCALATIONS_PER_RUN` new ones this run, else one digest's
(`escalation-digest:RECIPIENT:LOWEST-ID`). Only recipients in their working hours (their own
zone, working days and holidays) are planned. Sending (after the commit) delivers every
planned key not yet sent, rendered from the database, through `bot.services.deliveries`: a
retry, a restart, a crash between send and record or a second process never sends twice.
When an escalation closes by itself, the message that shows it is updated in place.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Customer, Delivery, Escalation, EscalationStep, TeamMember
from bot.db.sql import key_in
from bot.db.uow import UnitOfWork
from bot.domain.aging import Bucket, bucket_for
from bot.domain.calendar import holiday_calendar, in_working_hours, local_date
from bot.domain.escalation_levels import recommendation
from bot.domain.vocabulary import DeliveryStatus, EscalationStatus
from bot.services.deliveries import (
    OutgoingMessage,
    deliver,
    delivery_messages,
    enqueue,
    mark_skipped,
)
from bot.services.delivery_sender import pace_of
from bot.services.escalation_chain import Chain, load_chain
from bot.services.escalations import escalation_detail, past_due_of
from bot.services.policy import current_policy
from bot.services.roster import member_zone
from bot.settings import Settings
from bot.slack.client import SlackError, SlackGateway
from bot.views.escalation_actions import decision_actions
from bot.views.escalations import (
    DIGEST_SHOWN,
    DigestTotals,
    EscalationDetail,
    Recommendation,
    escalation_digest,
    escalation_message,
)
from bot.views.text import Block, Message

logger = logging.getLogger(__name__)

KIND = "escalation"
DIGEST_KIND = "escalation-digest"
TEAM_WEEKDAYS = frozenset({1, 2, 3, 4, 5})
ZERO = Decimal("0.00")


def escalation_key(escalation_id: int, step: int) -> str:
    """The delivery key of one escalation's own message at a step up the roster."""
    return f"escalation:{escalation_id}:{step}"


def digest_key(recipient: str, first_id: int) -> str:
    """The delivery key of a digest: its recipient and the lowest escalation id it holds."""
    return f"escalation-digest:{recipient}:{first_id}"


@dataclass(frozen=True)
class Recipient:
    """Who is told: a manager (with their calendar) or the managers channel."""

    slack_id: str
    member: TeamMember | None


@dataclass
class DeliveryReport:
    """What the delivery part of one run did."""

    sent: int = 0
    queued: int = 0  # for the sender pool (the scheduler's jobs only queue)
    digests: int = 0
    already_sent: int = 0
    updated: int = 0
    failed: int = 0
    waiting: int = 0  # planned or pending, but outside the recipient's working hours
    unaddressed: int = 0  # no manager on the roster and no managers channel
    errors: list[str] = field(default_factory=list)

    def summary(self) -> str:
        parts = [f"{self.sent} sent", f"{self.digests} digest(s)", f"{self.updated} updated"]
        if self.queued:
            parts.insert(1, f"{self.queued} queued")
        if self.already_sent:
            parts.append(f"{self.already_sent} already sent")
        if self.waiting:
            parts.append(f"{self.waiting} waiting for working hours")
        if self.unaddressed:
            parts.append(f"{self.unaddressed} with no manager or COLLECTBOT_MANAGERS_CHANNEL")
        parts.append(f"{self.failed} failed")
        return ", ".join(parts)


def recipient_of(customer: Customer, managers_channel: str | None) -> Recipient | None:
    """The collector's manager (active, on the roster), else the managers channel, else None."""
    collector = customer.collector
    manager = collector.manager if collector is not None else None
    if manager is not None and manager.active:
        return Recipient(manager.slack_user_id, manager)
    return Recipient(managers_channel, None) if managers_channel else None


class WorkingHours:
    """Whether a recipient may be interrupted now: their zone, days and the team's holidays."""

    def __init__(self, settings: Settings, now: datetime) -> None:
        self.settings, self.now = settings, now
        self.start, self.end = settings.escalation_window
        self.holidays = holiday_calendar(settings.country, range(now.year - 1, now.year + 2))

    def zone(self, recipient: Recipient) -> ZoneInfo:
        if recipient.member is None:
            return self.settings.zone
        return member_zone(recipient.member, self.settings.zone)

    def open_for(self, recipient: Recipient) -> bool:
        weekdays = recipient.member.weekdays if recipient.member else TEAM_WEEKDAYS
        return in_working_hours(self.now, self.zone(recipient), self.start, self.end,
                                weekdays or TEAM_WEEKDAYS, self.holidays)


def _team_today(settings: Settings, now: datetime) -> date:
    return local_date(now, settings.zone)


def plan_deliveries(uow: UnitOfWork, settings: Settings, *, now: datetime) -> DeliveryReport:
    """Give every open, awake, untold escalation whose recipient is at work its message key
    (not committed; the job's lock makes two planners take turns)."""
    session = uow.session
    today = _team_today(settings, now)
    rows = session.execute(
        select(Escalation, Customer, EscalationStep)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(EscalationStep, and_(EscalationStep.escalation_id == Escalation.id,
                                         EscalationStep.step == Escalation.step))
        .where(Escalation.status == EscalationStatus.OPEN, Escalation.message_key.is_(None),
               or_(Escalation.snoozed_until.is_(None), Escalation.snoozed_until <= today))
        .order_by(Escalation.id)
    ).all()
    if not rows:
        return DeliveryReport()
    hours = WorkingHours(settings, now)
    chain = load_chain(session)
    report = DeliveryReport()
    groups: dict[str, list[tuple[Escalation, EscalationStep | None, Recipient]]] = \
        defaultdict(list)
    for escalation, customer, level in rows:
        recipient = (recipient_of(customer, settings.managers_channel) if level is None
                     else Recipient(level.recipient, chain.members.get(level.holder_id or 0)))
        if recipient is None:
            report.unaddressed += 1
        elif not hours.open_for(recipient):
            report.waiting += 1
        else:
            groups[recipient.slack_id].append((escalation, level, recipient))
    for slack_id, told in groups.items():
        digest = len(told) > settings.escalations_per_run
        for escalation, level, recipient in told:
            escalation.recipient = slack_id
            escalation.message_key = (digest_key(slack_id, told[0][0].id) if digest
                                      else escalation_key(escalation.id, escalation.step))
            step = level or _first_step(session, escalation, recipient, chain, settings)
            step.message_key = escalation.message_key
    return report


def _first_step(session: Session, escalation: Escalation, recipient: Recipient, chain: Chain,
                settings: Settings) -> EscalationStep:
    """The step an escalation is at when first told, held by whoever it goes to."""
    holder = recipient.member.id if recipient.member is not None else None
    step = EscalationStep(
        escalation_id=escalation.id, step=escalation.step, holder_id=holder,
        recipient=recipient.slack_id, reached_at=escalation.created_at,
        last=chain.above(holder, held=set() if holder is None else {holder},
                         mode=settings.escalation_above) is None)
    session.add(step)
    return step


@dataclass(frozen=True)
class _Outgoing:
    key: str
    recipient: str
    members: list[int]


def _unsent(session: Session) -> list[_Outgoing]:
    """Planned messages of open escalations whose delivery is not sent (or skipped) yet."""
    rows = session.execute(
        select(Escalation.message_key, Escalation.recipient, Escalation.id)
        .outerjoin(Delivery, Delivery.key == Escalation.message_key)
        .where(Escalation.status == EscalationStatus.OPEN, Escalation.message_key.is_not(None),
               or_(Delivery.id.is_(None),
                   Delivery.status.not_in((DeliveryStatus.SENT, DeliveryStatus.SKIPPED))))
        .order_by(Escalation.message_key, Escalation.id)
    ).all()
    outgoing: dict[str, _Outgoing] = {}
    for key, recipient, escalation_id in rows:
        outgoing.setdefault(key, _Outgoing(key, recipient, [])).members.append(escalation_id)
    return list(outgoing.values())


def render_message(
    session: Session, key: str, *, today: date, zone: ZoneInfo
) -> Message | None:
    """The message a key shows, as it should read now (None when it shows nothing)."""
    shown = shown_by(session, key)
    if not shown:
        return None
    members = list(shown)
    if not key.startswith(DIGEST_KIND + ":"):
        detail = level_detail(session, members[0], shown[members[0]], today=today, zone=zone)
        return escalation_message(detail, actions=detail_actions(detail))
    # Full details for the top ones only: one aggregate ranks every member by past due.
    balances = past_due_of(session, [e.customer_id for e in members], today)
    ranked = sorted(members, key=lambda e: (-balances.get(e.customer_id, ZERO), e.id))
    top = [level_detail(session, e, shown[e], today=today, zone=zone)
           for e in ranked[:DIGEST_SHOWN]]
    totals = DigestTotals(
        count=len(members),
        open_count=sum(1 for e in members if e.status is EscalationStatus.OPEN),
        past_due=sum((balances.get(e.customer_id, ZERO) for e in members), ZERO),
    )
    return escalation_digest(top, totals, actions_for=detail_actions)


def detail_actions(detail: EscalationDetail) -> list[Block]:
    """The decision buttons under one escalation (the recommended one emphasised)."""
    recommend = detail.recommendation.level.value if detail.recommendation else None
    return decision_actions(detail.escalation_id, customer_name=detail.customer_name,
                            recommend=recommend)


def shown_by(session: Session, key: str) -> dict[Escalation, int]:
    """The escalations a message shows, each with the step it showed them at, by id."""
    rows = session.execute(
        select(Escalation, EscalationStep.step)
        .join(EscalationStep, EscalationStep.escalation_id == Escalation.id)
        .where(EscalationStep.message_key == key).order_by(Escalation.id)).tuples().all()
    if rows:
        return dict(rows)
    # Planned before its levels were recorded.
    return {e: e.step for e in session.scalars(
        select(Escalation).where(Escalation.message_key == key).order_by(Escalation.id))}


def level_detail(
    session: Session, escalation: Escalation, step: int, *, today: date, zone: ZoneInfo
) -> EscalationDetail:
    """An escalation as the message of one of its steps shows it: who it came from, where
    it went, and at the last level the policy's recommendation."""
    detail = escalation_detail(session, escalation, today=today, zone=zone)
    levels = {level.step: level for level in session.scalars(
        select(EscalationStep).where(EscalationStep.escalation_id == escalation.id))}
    here, above = levels.get(step), levels.get(step + 1)
    if escalation.status is not EscalationStatus.OPEN:
        return detail
    notes = []
    if here is not None and here.note:
        notes.append(f"Escalated to you: {here.note}")
    if above is not None:
        holder = session.get(TeamMember, above.holder_id) if above.holder_id else None
        reached = local_date(above.reached_at, zone)
        notes.append(f"Went up to {holder.name if holder else 'the level above'} on "
                     f"{reached.day} {reached:%b}" + (f": {above.note}" if above.note else ""))
    note = " · ".join(notes) or None
    recommended = None
    if above is None and here is not None and here.last:
        recommended = _recommendation(session, escalation, detail, today)
    return replace(detail, level_note=note, recommendation=recommended)


def _recommendation(session: Session, escalation: Escalation, detail: EscalationDetail,
                    today: date) -> Recommendation | None:
    _, policy = current_policy(session)
    customer = session.get_one(Customer, escalation.customer_id)
    oldest = today - timedelta(days=detail.days_past_due)
    bucket = bucket_for(oldest, today) if detail.past_due > 0 else Bucket.CURRENT
    segment = policy.segment_for(bucket, detail.past_due, customer.tier)
    level = recommendation(segment.escalation_path, contacts=detail.attempts,
                           max_contacts=segment.max_attempts)
    if level is None:
        return None
    return Recommendation(level, detail.attempts, segment.max_attempts, segment.name,
                          tuple(segment.escalation_path))


def _zone_of(session: Session, recipient: str, default_tz: str | ZoneInfo) -> ZoneInfo:
    member = session.scalars(
        select(TeamMember).where(TeamMember.slack_user_id == recipient)).first()
    if member is not None:
        return member_zone(member, default_tz)
    return default_tz if isinstance(default_tz, ZoneInfo) else ZoneInfo(default_tz)


def send_planned(
    database: Database, gateway: SlackGateway, settings: Settings, *, now: datetime,
    report: DeliveryReport, send: bool = True,
) -> DeliveryReport:
    """Deliver every planned message not yet sent whose recipient is at work now (without
    `send`, queue it for the sender pool)."""
    with database.uow() as uow:
        outgoing = _unsent(uow.session)
    hours = WorkingHours(settings, now)
    for item in outgoing:
        with database.uow() as uow:
            recipient = _recipient_for_key(uow.session, item)
            if not hours.open_for(recipient):
                report.waiting += len(item.members)
                continue
            zone = hours.zone(recipient)
            message = render_message(uow.session, item.key, today=local_date(now, zone),
                                     zone=zone)
        if send or message is None:
            _send(database, gateway, settings, item, message, now=now, report=report)
        else:
            _queue(database, item, message, report)
    return report


def _recipient_for_key(session: Session, item: _Outgoing) -> Recipient:
    member = session.scalars(
        select(TeamMember).where(TeamMember.slack_user_id == item.recipient)).first()
    return Recipient(item.recipient, member)


def _send(  # noqa: PLR0913 (the run's state, passed on)
    database: Database, gateway: SlackGateway, settings: Settings, item: _Outgoing,
    message: Message | None, *, now: datetime, report: DeliveryReport,
) -> None:
    digest = item.key.startswith(DIGEST_KIND + ":")
    kind = DIGEST_KIND if digest else KIND
    if message is None:
        mark_skipped(database, item.key, kind, item.recipient, "nothing left to show", now)
        return
    # At the pool's pace: one message at a time per channel, within the workspace's cap.
    result = deliver(database, gateway, key=item.key, kind=kind, recipient=item.recipient,
                     messages=[OutgoingMessage(message.text, message.blocks)], now=now,
                     pace=pace_of(settings))
    if result.status == "sent":
        report.sent += 1
        report.digests += int(digest)
    elif result.status == "already_sent":
        report.already_sent += 1
    elif result.status == "failed":
        report.failed += 1
        report.errors.append(f"{item.key}: {result.error}")


def _queue(database: Database, item: _Outgoing, message: Message,
           report: DeliveryReport) -> None:
    digest = item.key.startswith(DIGEST_KIND + ":")
    with database.uow() as uow:
        queued = enqueue(uow.session, key=item.key, kind=DIGEST_KIND if digest else KIND,
                         recipient=item.recipient,
                         messages=[OutgoingMessage(message.text, message.blocks)])
        uow.commit()
    if queued:
        report.queued += 1
        report.digests += int(digest)


def update_closed(
    database: Database, gateway: SlackGateway, settings: Settings, closed: Sequence[int], *,
    now: datetime,
) -> int:
    """Re-render, in place, every sent message that shows an escalation just closed."""
    return update_escalation_messages(database, gateway, closed, now=now,
                                      default_tz=settings.zone)


def update_escalation_messages(
    database: Database, gateway: SlackGateway, escalation_ids: Sequence[int], *,
    now: datetime, default_tz: str | ZoneInfo,
) -> int:
    """Re-render, in place, every sent message that shows one of these escalations (after it
    closed, or a manager decided); how many were updated."""
    if not escalation_ids:
        return 0
    with database.uow(read_only=True) as uow:
        connection = uow.session.connection()
        ids = list(escalation_ids)
        keys = sorted({key for key, in uow.session.execute(
            select(Escalation.message_key).where(
                key_in(connection, Escalation.id, ids), Escalation.message_key.is_not(None))
            .union(select(EscalationStep.message_key).where(
                key_in(connection, EscalationStep.escalation_id, ids),
                EscalationStep.message_key.is_not(None))))})
    updated = 0
    for key in keys:
        updated += _update_one(database, gateway, default_tz, key, now=now)
    return updated


def _update_one(
    database: Database, gateway: SlackGateway, default_tz: str | ZoneInfo, key: str, *,
    now: datetime,
) -> int:
    refs = delivery_messages(database, key)
    if not refs:
        return 0  # never sent: it is skipped or re-rendered when sent
    with database.uow() as uow:
        recipient = uow.session.scalars(
            select(EscalationStep.recipient).where(EscalationStep.message_key == key)
            .union(select(Escalation.recipient).where(Escalation.message_key == key,
                                                      Escalation.recipient.is_not(None)))
        ).first()
        zone = _zone_of(uow.session, recipient or "", default_tz)
        message = render_message(uow.session, key, today=local_date(now, zone), zone=zone)
    if message is None:
        return 0
    updated = 0
    for ref in refs[:1]:
        try:
            gateway.update_message(ref["channel"], ref["ts"], message.text, message.blocks)
            updated += 1
        except SlackError as exc:
            # The database holds the closing; the next change re-renders it.
            logger.warning("escalation message %s: chat.update failed: %s", key, exc.code,
                           extra={"delivery_key": key})
    return updated


def deliver_escalations(
    database: Database, gateway: SlackGateway, settings: Settings, *, now: datetime,
    planned: DeliveryReport, closed: Sequence[int], send: bool = True,
) -> DeliveryReport:
    """After the job's commit: update the messages of the escalations it closed, then send
    (or, without `send`, queue for the sender pool) what is planned and unsent."""
    planned.updated += update_closed(database, gateway, settings, closed, now=now)
    return send_planned(database, gateway, settings, now=now, report=planned, send=send)

