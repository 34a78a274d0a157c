"""An escalation nobody decides climbs the roster: one reminder, then up a level.

Run in the escalation job's unit of work, after the rules and before planning: for each open
escalation whose message its holder got, counted in the holder's own working days (zone,
working days, the team's holidays):
- after COLLECTBOT_ESCALATION_REMIND_DAYS without a decision, one reminder, a reply in the
  message's thread (`escalation-reminder:ID:STEP`), queued in the holder's working hours;
- as many working days after the reminder, up a step: to the holder's manager on the roster,
  else a head (COLLECTBOT_ESCALATION_ABOVE=head: a head straight away). The new holder is told
  in her own working hours by the planner (`escalation:ID:STEP`), the lower message says it
  went up, and both are audited;
- when a snooze ends and the escalation is still open (its cause is still there), the holder
  is pinged once in the thread (`escalation-awake:ID:DATE`) and the message re-rendered.

Every message is a queued delivery with its key: a rerun, a restart, a crash between send and
record or a second process never sends one twice (the job's lock makes two runs take turns).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Delivery, Escalation, EscalationStep, TeamMember
from bot.db.uow import UnitOfWork
from bot.domain.calendar import local_date, working_days_after
from bot.domain.escalation_decisions import Decision
from bot.domain.escalation_levels import LevelClock, days_words, level_action
from bot.domain.vocabulary import DeliveryStatus, EscalationStatus
from bot.services.deliveries import OutgoingMessage, enqueue, flush, mark_skipped
from bot.services.delivery_sender import pace_of
from bot.services.escalation_chain import Chain, load_chain
from bot.services.escalation_delivery import (
    TEAM_WEEKDAYS,
    Recipient,
    WorkingHours,
    level_detail,
)
from bot.services.escalation_replies import (
    DIGEST_SUFFIX,
    REPLY_KIND,
    awake_key,
    reminder_key,
    stale_replies,
)
from bot.services.escalations import ACTOR
from bot.settings import Settings
from bot.slack.client import SlackGateway
from bot.views.escalations import awake_message, digest_reminder_message, reminder_message
from bot.views.text import Message

logger = logging.getLogger(__name__)


@dataclass
class LevelReport:
    """What one run did to the escalations nobody decided."""

    reminded: list[int] = field(default_factory=list)
    raised: list[int] = field(default_factory=list)
    woke: list[int] = field(default_factory=list)

    @property
    def changed(self) -> list[int]:
        """Escalations whose messages read differently now."""
        return sorted({*self.raised, *self.woke})

    def summary(self) -> str:
        return (f"{len(self.reminded)} reminded, {len(self.raised)} raised, "
                f"{len(self.woke)} woken")


@dataclass(frozen=True)
class _Told:
    """An open escalation at its current step, whose holder got its message."""

    escalation: Escalation
    step: EscalationStep
    sent_at: datetime
    channel_recipient: str  # the delivery's recipient: where its thread is
    thread_ts: str


def _told(session: Session) -> list[_Told]:
    rows = session.execute(
        select(Escalation, EscalationStep, Delivery.sent_at, Delivery.recipient,
               Delivery.messages)
        .join(EscalationStep, and_(EscalationStep.escalation_id == Escalation.id,
                                   EscalationStep.step == Escalation.step))
        .join(Delivery, Delivery.key == EscalationStep.message_key)
        .where(Escalation.status == EscalationStatus.OPEN,
               Delivery.status == DeliveryStatus.SENT)
        .order_by(Escalation.id)).tuples().all()
    return [_Told(escalation, step, sent_at, recipient, str(refs[0]["ts"]))
            for escalation, step, sent_at, recipient, refs in rows
            if sent_at is not None and refs and "ts" in refs[0]]


def run_levels(uow: UnitOfWork, settings: Settings, *, now: datetime) -> LevelReport:
    """Remind, raise and wake the escalations nobody decided (queued, not committed)."""
    session = uow.session
    report = LevelReport()
    told = _told(session)
    if not told:
        return report
    hours = WorkingHours(settings, now)
    chain = load_chain(session)
    due: dict[str, list[_Told]] = defaultdict(list)  # reminders by the message they answer
    zones: dict[str, tuple[ZoneInfo, date]] = {}
    for item in told:
        holder = chain.members.get(item.step.holder_id or 0)
        recipient = Recipient(item.step.recipient, holder)
        zone = hours.zone(recipient)
        today = local_date(now, zone)
        weekdays = (holder.weekdays if holder else TEAM_WEEKDAYS) or TEAM_WEEKDAYS
        escalation, step = item.escalation, item.step
        told_on = local_date(item.sent_at, zone)
        until = escalation.snoozed_until
        if (until is not None and until <= today and told_on < until
                and escalation.decision == Decision.SNOOZE.value and step.woke_on != until):
            if hours.open_for(recipient):
                _wake(uow, item, until, zone=zone, today=today, report=report)
            continue
        clock = LevelClock(told_on, None if step.reminded_at is None
                           else local_date(step.reminded_at, zone), until)
        action = level_action(clock, today, days=settings.escalation_remind_days,
                              weekdays=weekdays, holidays=hours.holidays)
        if action == "remind" and hours.open_for(recipient):
            due[item.step.message_key or ""].append(item)
            zones[item.step.message_key or ""] = (zone, today)
        elif action == "raise":
            _raise(uow, item, holder, chain, settings, now=now, report=report,
                   days=working_days_after(told_on if until is None else max(told_on, until),
                                           today, weekdays, hours.holidays))
    for message_key, items in due.items():
        zone, today = zones[message_key]
        _remind(uow, items, chain, settings, now=now, zone=zone, today=today, report=report)
    if report.reminded or report.raised or report.woke:
        logger.info("escalation levels: %s", report.summary())
    return report


def _reply(uow: UnitOfWork, item: _Told, key: str, message: Message) -> None:
    # Queued once per key, ever; the step's record (reminded_at, woke_on) is written in the
    # same transaction, so a run never queues it again.
    enqueue(uow.session, key=key, kind=REPLY_KIND, recipient=item.channel_recipient,
            messages=[OutgoingMessage(message.text, message.blocks)], thread_ts=item.thread_ts)


def _remind(  # noqa: PLR0913 (the run's state, passed on)
    uow: UnitOfWork, items: list[_Told], chain: Chain, settings: Settings, *, now: datetime,
    zone: ZoneInfo, today: date, report: LevelReport,
) -> None:
    """One reminder in the thread of the message they came in: one escalation's, or one for
    all of a digest's that are due (never a reply per escalation)."""
    first = items[0]
    days = settings.escalation_remind_days
    details = [level_detail(uow.session, i.escalation, i.step.step, today=today, zone=zone)
               for i in items]
    key = reminder_key(first.escalation.id, first.step.step)
    if len(items) == 1:
        above = chain.above(first.step.holder_id, held=_held(uow.session, first.escalation.id),
                            mode=settings.escalation_above)
        message = reminder_message(details[0], days=days,
                                   next_holder=above.name if above is not None else None)
    else:
        key += DIGEST_SUFFIX
        message = digest_reminder_message(details, days=days)
    _reply(uow, first, key, message)
    for item in items:
        item.step.reminded_at = now
        uow.audit(ACTOR, "escalation.reminded", "escalation", item.escalation.id,
                  step=item.step.step, recipient=item.step.recipient, key=key)
        report.reminded.append(item.escalation.id)


def _held(session: Session, escalation_id: int) -> set[int]:
    return {holder for holder, in session.execute(
        select(EscalationStep.holder_id).where(EscalationStep.escalation_id == escalation_id,
                                               EscalationStep.holder_id.is_not(None)))}


def _raise(  # noqa: PLR0913 (the run's state, passed on)
    uow: UnitOfWork, item: _Told, holder: TeamMember | None, chain: Chain,
    settings: Settings, *, now: datetime, report: LevelReport, days: int,
) -> None:
    escalation, step = item.escalation, item.step
    held = _held(uow.session, escalation.id)
    above = chain.above(step.holder_id, held=held, mode=settings.escalation_above)
    if above is None:
        if not step.last:
            step.last = True  # the roster changed: nobody is above any more
        return
    by = holder.name if holder is not None else "the managers channel"
    note = f"not decided by {by} in {days_words(days)}"
    uow.session.add(EscalationStep(
        escalation_id=escalation.id, step=step.step + 1, holder_id=above.id,
        recipient=above.slack_user_id, reached_at=now, note=note[:300],
        last=chain.above(above.id, held=held | {above.id},
                         mode=settings.escalation_above) is None))
    step.raised_at = now
    # The planner tells the new holder, in her working hours, under the new step's key.
    escalation.step, escalation.recipient, escalation.message_key = (
        step.step + 1, above.slack_user_id, None)
    uow.audit(ACTOR, "escalation.raised", "escalation", escalation.id,
              step=step.step + 1, from_recipient=step.recipient, to=above.slack_user_id,
              reason=note)
    report.raised.append(escalation.id)


def _wake(  # noqa: PLR0913 (the run's state, passed on)
    uow: UnitOfWork, item: _Told, until: date, *, zone: ZoneInfo, today: date,
    report: LevelReport,
) -> None:
    escalation, step = item.escalation, item.step
    detail = level_detail(uow.session, escalation, step.step, today=today, zone=zone)
    key = awake_key(escalation.id, until)
    _reply(uow, item, key, awake_message(detail, snoozed_until=until))
    step.woke_on = until
    uow.audit(ACTOR, "escalation.woke", "escalation", escalation.id, step=step.step,
              snoozed_until=until.isoformat(), key=key)
    report.woke.append(escalation.id)


def send_replies(
    database: Database, gateway: SlackGateway, settings: Settings, *, now: datetime
) -> tuple[int, list[str]]:
    """Send every queued reply not sent yet (a crash or a failure in an earlier run included)
    about an escalation still open; those about decided ones are skipped. (sent, errors)"""
    with database.uow(read_only=True) as uow:
        keys = list(uow.session.scalars(
            select(Delivery.key).where(Delivery.kind == REPLY_KIND, Delivery.status.not_in(
                (DeliveryStatus.SENT, DeliveryStatus.SKIPPED))).order_by(Delivery.id)))
        if not keys:
            return 0, []
        stale = stale_replies(uow.session, keys)
    sending = [key for key in keys if key not in stale]
    for key in sorted(stale):
        with database.uow(read_only=True) as uow:
            recipient = uow.session.scalar(select(Delivery.recipient).where(Delivery.key == key))
        mark_skipped(database, key, REPLY_KIND, recipient or "", "decided before it was sent",
                     now)
    results = flush(database, gateway, sending, now=now, pace=pace_of(settings))
    sent = sum(1 for result in results.values() if result.status == "sent")
    errors = [f"{key}: {result.error}" for key, result in results.items()
              if result.status == "failed"]
    return sent, errors
