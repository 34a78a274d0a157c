"""The call-lists job: each collector's list as a DM in their own morning, sent exactly once."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import Delivery, TeamMember
from bot.domain.calendar import holiday_calendar, morning_decision
from bot.domain.vocabulary import DeliveryStatus, Role
from bot.logs import log_ids
from bot.services import roster
from bot.services.call_lists import (
    ComputedList,
    Planned,
    compute_lists,
    render_list_messages,
    store_list,
)
from bot.services.deliveries import (
    DeliveryResult,
    OutgoingMessage,
    call_list_key,
    enqueue,
    flush,
    mark_skipped,
)
from bot.services.delivery_sender import pace_of
from bot.settings import Settings
from bot.slack.client import SlackError, SlackGateway
from bot.views.call_list import render_manager_ooo_notice
from bot.views.text import zone_named

logger = logging.getLogger(__name__)


@dataclass
class CallListsReport:
    """What one run of the job did, collector by collector (by Slack id)."""

    outcomes: dict[str, str] = field(default_factory=dict)

    def count(self) -> Counter[str]:
        return Counter(self.outcomes.values())

    @property
    def failed(self) -> int:
        """Lists whose delivery failed this run (the next run retries them)."""
        return self.count()["failed"]

    def summary(self) -> str:
        counts = self.count()
        if not counts:
            return "call-lists: no active collectors"
        return "call-lists: " + ", ".join(f"{n} {what}" for what, n in sorted(counts.items()))


def member_zone(
    database: Database, member: TeamMember, gateway: SlackGateway, settings: Settings
) -> ZoneInfo:
    """The member's zone by roster.member_zone, after asking Slack (users.info) when the roster
    has none; a new Slack zone is remembered on the member, so every other path (commands,
    buttons, the App Home) resolves the same zone without calling Slack."""
    if not member.timezone:
        try:
            slack_tz = gateway.user_info(member.slack_user_id).get("tz")
        except SlackError as exc:
            logger.warning("users.info %s failed (%s): using the zone last seen",
                           member.slack_user_id, exc.code)
        else:
            if isinstance(slack_tz, str) and slack_tz and slack_tz != member.slack_timezone:
                _remember_slack_zone(database, member, slack_tz)
    return roster.member_zone(member, settings.zone)


def _remember_slack_zone(database: Database, member: TeamMember, slack_tz: str) -> None:
    try:
        zone_named(slack_tz)
    except ValueError:
        logger.warning("users.info %s: unknown zone %r ignored", member.slack_user_id,
                       slack_tz[:60])
        return
    with database.uow() as uow:
        uow.session.execute(
            update(TeamMember).where(TeamMember.id == member.id).values(slack_timezone=slack_tz)
        )
        uow.commit()
    member.slack_timezone = slack_tz
    logger.info("member %s: Slack zone %s remembered", member.slack_user_id, slack_tz)


def out_of_office(
    gateway: SlackGateway, member: TeamMember, settings: Settings
) -> tuple[bool, str]:
    """Whether the member's Slack status says they are out, and the status as they wrote it."""
    try:
        text, emoji = gateway.user_status(member.slack_user_id)
    except SlackError as exc:
        logger.warning("users.profile.get %s failed (%s): treated as in office",
                       member.slack_user_id, exc.code)
        return False, ""
    status = f"{emoji} {text}".strip().lower()
    return any(marker in status for marker in settings.ooo_markers), text or emoji


def run_call_lists(
    database: Database, gateway: SlackGateway, settings: Settings, *, now: datetime,
    send: bool = True,
) -> CallListsReport:
    """Queue every collector whose morning it is their list, once; skip days past the cutoff.

    With `send`, the lists queued are then sent at once from this thread (what `collectbot job`
    does, to report them sent or failed); without, the sender pool sends them.
    """
    report = CallListsReport()
    with database.uow() as uow:
        members = list(
            uow.session.scalars(
                select(TeamMember)
                .where(TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR)
                .order_by(TeamMember.id)
            )
        )
        done = dict(
            uow.session.execute(
                select(Delivery.key, Delivery.status).where(
                    Delivery.kind == "call_list",
                    Delivery.status.in_([DeliveryStatus.SENT, DeliveryStatus.SKIPPED]),
                )
            ).tuples().all()
        )
        by_id = {m.id: m for m in uow.session.scalars(select(TeamMember))}
    holidays = holiday_calendar(settings.country, range(now.year - 1, now.year + 2))

    due: list[Planned] = []
    for member in members:
        tz = member_zone(database, member, gateway, settings)
        decision = morning_decision(
            now, tz, member.morning_time or settings.morning_time, settings.list_cutoff_time,
            member.weekdays, holidays,
        )
        key = call_list_key(member.slack_user_id, decision.local_date)
        if key in done:
            # A day skipped earlier (past the cutoff, out of office) was not sent: say so.
            skipped = done[key] == DeliveryStatus.SKIPPED
            report.outcomes[member.slack_user_id] = "skipped" if skipped else "already sent"
        elif decision.kind == "send":
            due.append(Planned(member, tz, decision.local_date))
        elif decision.kind == "skip":
            mark_skipped(database, key, "call_list", member.slack_user_id, decision.reason, now)
            logger.warning("call list %s skipped: %s", key, decision.reason,
                           extra={"delivery_key": key, "collector": member.slack_user_id})
            report.outcomes[member.slack_user_id] = "skipped"
        else:
            report.outcomes[member.slack_user_id] = decision.kind.replace("_", " ")
    if not due:
        return report

    with database.uow() as uow:
        version, computed = compute_lists(uow.session, due, now=now)
        stored = {c.planned.member.id: store_list(uow.session, c, policy_version=version).id
                  for c in computed}
        uow.commit()
    queued: dict[str, _Queued] = {}
    for item in computed:
        member = item.planned.member
        with log_ids(collector=member.slack_user_id):
            outcome = _queue_one(database, gateway, settings=settings, item=item,
                                 call_list_id=stored[member.id], by_id=by_id, now=now)
        if isinstance(outcome, str):
            report.outcomes[member.slack_user_id] = outcome
        else:
            queued[member.slack_user_id] = outcome
    _send_queued(database, gateway, settings, queued, report, now=now, send=send)
    logger.info(report.summary())
    return report


@dataclass(frozen=True)
class _Queued:
    """A list queued: its key, the manager's notice queued with it, and whether a backup gets it."""

    key: str
    notice: str | None
    to_backup: bool


def _send_queued(  # noqa: PLR0913 (the job's state, passed on)
    database: Database, gateway: SlackGateway, settings: Settings, queued: dict[str, _Queued],
    report: CallListsReport, *, now: datetime, send: bool,
) -> None:
    if not send:
        for collector in queued:
            report.outcomes[collector] = "queued"
        return
    pace = pace_of(settings)
    for collector, item in queued.items():
        with log_ids(collector=collector):
            keys = [k for k in (item.notice, item.key) if k is not None]
            result = flush(database, gateway, keys, now=now, pace=pace)[item.key]
        report.outcomes[collector] = _outcome(result, to_backup=item.to_backup)


def _outcome(result: DeliveryResult, *, to_backup: bool) -> str:
    if to_backup and result.status == "sent":
        return "sent to backup"
    return result.status.replace("_", " ")


def _queue_one(
    database: Database,
    gateway: SlackGateway,
    *,
    settings: Settings,
    item: ComputedList,
    call_list_id: int,
    by_id: dict[int, TeamMember],
    now: datetime,
) -> _Queued | str:
    member = item.planned.member
    key = call_list_key(member.slack_user_id, item.planned.list_date)
    away, status_text = out_of_office(gateway, member, settings)
    backup = by_id.get(member.backup_id) if member.backup_id else None
    if backup is not None and not backup.active:
        backup = None
    recipient = member.slack_user_id
    notice = None
    if away:
        notice = _tell_manager(database, item=item, by_id=by_id, backup=backup,
                               status_text=status_text)
        if backup is None:
            mark_skipped(database, key, "call_list", member.slack_user_id,
                         f"out of office ({status_text}), no backup", now)
            return "out of office, no backup"
        recipient = backup.slack_user_id
    try:
        with database.uow() as uow:
            if recipient != member.slack_user_id:
                # Record the backup as the recipient before rendering: the list reads as theirs.
                _claim_recipient(uow.session, key, recipient)
            messages = render_list_messages(uow.session, call_list_id, now=now)
            enqueue(uow.session, key=key, kind="call_list", recipient=recipient,
                    messages=[OutgoingMessage(m.text, m.blocks) for m in messages])
            uow.commit()
    except ValueError as exc:  # the key went to someone else on an earlier run
        logger.warning("call list %s not sent: %s", key, exc)
        return "conflict"
    return _Queued(key, notice, to_backup=away)


def _claim_recipient(session: Session, key: str, recipient: str) -> None:
    if session.scalar(select(Delivery).where(Delivery.key == key)) is None:
        session.add(Delivery(key=key, kind="call_list", recipient=recipient))
        session.flush()


def _tell_manager(
    database: Database,
    *,
    item: ComputedList,
    by_id: dict[int, TeamMember],
    backup: TeamMember | None,
    status_text: str,
) -> str | None:
    """Queue the manager's notice that the collector is out; its key (None: no manager)."""
    member = item.planned.member
    manager = by_id.get(member.manager_id) if member.manager_id else None
    if manager is None or not manager.active:
        logger.warning("collector %s is out of office and has no manager to tell",
                       member.slack_user_id)
        return None
    notice = render_manager_ooo_notice(
        absent_name=member.name,
        absent_slack_id=member.slack_user_id,
        list_date=item.planned.list_date,
        calls=len(item.result.items),
        past_due=item.past_due_book,
        backup_name=backup.name if backup else None,
        backup_slack_id=backup.slack_user_id if backup else None,
        status_text=status_text or None,
    )
    key = f"ooo:{member.slack_user_id}:{item.planned.list_date.isoformat()}"
    with database.uow() as uow:
        enqueue(uow.session, key=key, kind="ooo_notice", recipient=manager.slack_user_id,
                messages=[OutgoingMessage(notice.text, notice.blocks)])
        uow.commit()
    return key
