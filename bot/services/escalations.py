"""Escalations: opened, merged and closed by the rules; listed for managers and operators.

`run_escalations` is the hourly job's unit of work: it reads every account's facts in a few
aggregates (bot.services.escalation_facts), applies the rules (bot.domain.escalations), keeps at
most one open escalation per account with its reasons merged, and closes the ones whose causes
are gone with the reason in words. It holds a lock for its transaction, so two runs at once
take turns, and it is idempotent: a rerun with nothing changed changes nothing.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from json.encoder import encode_basestring_ascii as _json_text
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

from sqlalchemy import Select, Text, cast, func, insert, select, update
from sqlalchemy.orm import Session, aliased

from bot.db.models import (
    AuditEvent,
    ContactAttempt,
    Customer,
    Escalation,
    Invoice,
    PromiseToPay,
    TeamMember,
)
from bot.db.sql import date_value, key_in, money_value, xact_lock
from bot.db.uow import UnitOfWork
from bot.domain.aging import days_past_due
from bot.domain.calendar import local_date
from bot.domain.escalation_decisions import Decision, decision_words
from bot.domain.escalation_judge import BookJudge
from bot.domain.escalations import (
    EscalationFacts,
    OpenEscalation,
    Reason,
    account_gone_reason,
    close_reason,
    is_settled,
    reasons_text,
    segment_of,
)
from bot.domain.handoff import handoff_due
from bot.domain.policy import Policy, Segment
from bot.domain.vocabulary import (
    CALL_OUTCOMES,
    CustomerStatus,
    EscalationStatus,
    PromiseStatus,
)
from bot.memory import collector_paused
from bot.services.accounts import account_summary
from bot.services.call_list_queries import past_due_totals
from bot.services.escalation_facts import Calendar, LoadedFacts, load_facts
from bot.services.escalation_replies import withdraw_replies
from bot.services.policy import current_policy
from bot.services.roster import member_zone, open_escalations_for
from bot.views.escalations import AttemptSeen, EscalationDetail

logger = logging.getLogger(__name__)

ACTOR = "scheduler"
ESCALATION_LOCK_KEY = 0x65736361  # "esca": names "the escalation job" among advisory locks
REASON_CHARS = 500
CLOSE_REASON_CHARS = 300


@dataclass(frozen=True)
class EscalationRun:
    """What one run of the rules did."""

    checked: int
    opened: list[int] = field(default_factory=list)
    merged: list[int] = field(default_factory=list)  # a new rule joined an open escalation
    closed: list[int] = field(default_factory=list)
    open_now: int = 0
    # Active accounts whose segment hands them off, with their attempts without result since
    # the last right-party contact and the segment's `handoff_after` (bot.services.handoffs).
    handoffs: dict[int, tuple[int, int]] = field(default_factory=dict)

    def summary(self) -> str:
        return (f"escalations: {self.checked} account(s) checked, {len(self.opened)} opened, "
                f"{len(self.merged)} merged, {len(self.closed)} closed, {self.open_now} open")


class _Open(NamedTuple):
    """An open escalation as the run reads it (plain columns: a book may have thousands)."""

    id: int
    customer_id: int
    reason: str
    evidence_json: str | None

    @property
    def held(self) -> dict[str, str]:
        """The rules that held at the last run, with their evidence."""
        return dict(json.loads(self.evidence_json)) if self.evidence_json else {}


class _Finding(NamedTuple):
    segment: Segment
    today: date
    reasons: list[Reason]


def team_calendar(session: Session, now: datetime, team_zone: str | ZoneInfo) -> Calendar:
    """Every member's zone by the one resolver, and the team's."""
    zone = team_zone if isinstance(team_zone, ZoneInfo) else ZoneInfo(team_zone)
    members = session.scalars(select(TeamMember)).all()
    return Calendar(now, zone, {m.id: member_zone(m, zone) for m in members})


def run_escalations(
    uow: UnitOfWork, *, now: datetime, team_zone: str | ZoneInfo, actor: str = ACTOR
) -> EscalationRun:
    """Apply the rules to every account: open, merge and close escalations (not committed)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    with collector_paused():  # the book's facts live until the run ends
        run = _run(uow, now, team_zone, actor)
    logger.info("%s", run.summary())
    return run


def _run(uow: UnitOfWork, now: datetime, team_zone: str | ZoneInfo, actor: str) -> EscalationRun:
    session = uow.session
    xact_lock(session.connection(), ESCALATION_LOCK_KEY)
    _, policy = current_policy(session)
    calendar = team_calendar(session, now, team_zone)
    # The evidence as its stored JSON text: compared, not decoded, unless it changed. Fetched
    # at once (iterating the result would fetch its 40,000 rows one by one).
    open_rows = list(map(_Open._make, session.connection().execute(
        select(Escalation.id, Escalation.customer_id, Escalation.reason,
               cast(Escalation.evidence, Text))
        .where(Escalation.status == EscalationStatus.OPEN)).all()))
    loaded = load_facts(
        session, calendar,
        min_balance=min(s.escalate.min_balance for s in policy.segments),
        broken_window_days=max(s.escalate.broken_promise_days for s in policy.segments),
        include=[row.customer_id for row in open_rows],
    )
    findings, changed, handoffs = _judge(loaded, policy, calendar, open_rows)
    merged, changes, gone = [], [], []
    for row in open_rows:
        verdict = changed.get(row.customer_id, _UNCHANGED)
        if verdict is _UNCHANGED:
            continue
        if verdict is None:
            gone.append(row)
            continue
        change = _merge(row, verdict, now)
        if change is not None:
            changes.append(change)
            if set(change["evidence"]) - set(row.held):
                merged.append(row.id)  # a rule joined it
    if changes:
        session.execute(update(Escalation), changes)  # by primary key, in one statement
    closed = _close_gone(uow, gone, now=now, actor=actor,
                         why=lambda row: _why_closed(row, loaded, policy, calendar))
    opened = _open_new(uow, findings, now=now, actor=actor)
    open_now = len(open_rows) - len(closed) + len(opened)
    return EscalationRun(len(loaded.facts), opened, merged, closed, open_now, handoffs)


_UNCHANGED: list[Reason] = []  # an open escalation whose reasons are as stored


def _judge(
    loaded: LoadedFacts, policy: Policy, calendar: Calendar, open_rows: list[_Open]
) -> tuple[dict[int, _Finding], dict[int, list[Reason] | None], dict[int, tuple[int, int]]]:
    """Every loaded account judged: the accounts without an open escalation that a rule names
    (findings), the open escalations that change (their reasons now; None: no rule holds), and
    the hand-offs due.

    An open escalation whose words and evidence are as stored (the steady run's every one) is
    left out at once: one pass, and nothing kept for it.
    """
    findings: dict[int, _Finding] = {}
    changed: dict[int, list[Reason] | None] = {}
    handoffs: dict[int, tuple[int, int]] = {}
    judge = BookJudge(policy).judge
    todays, team_today = calendar.todays(), calendar.today(None)
    collectors = loaded.collectors
    open_by = {row.customer_id: row for row in open_rows}  # one each (a unique index)
    active = CustomerStatus.ACTIVE
    for customer_id, facts in loaded.facts.items():
        today = todays.get(collectors[customer_id], team_today)
        segment, reasons = judge(facts, today)
        row = open_by.get(customer_id)
        if row is not None:
            if not reasons:
                changed[customer_id] = None
            elif _stored(row, reasons) is not None:
                changed[customer_id] = reasons
        elif reasons:
            findings[customer_id] = _Finding(segment, today, reasons)
        if facts.status is active and segment.handoff_after is not None and \
                handoff_due(facts.unreached_attempts, segment.handoff_after):
            handoffs[customer_id] = (facts.unreached_attempts, segment.handoff_after)
    for customer_id in open_by.keys() - loaded.facts.keys():
        changed[customer_id] = None  # not loaded: the account is gone
    return findings, changed, handoffs


def _evidence(reasons: Sequence[Reason]) -> dict[str, str]:
    return {reason.rule: reason.evidence for reason in reasons}


def _evidence_json(reasons: Sequence[Reason]) -> str:
    """json.dumps(_evidence(reasons)), written out: the steady run compares it for every open
    escalation, and the general encoder costs more than the rules."""
    if len(reasons) == 1:  # most escalations have one reason
        rule, _, evidence = reasons[0]
        return f"{{{_json_text(rule)}: {_json_text(evidence)}}}"
    seen: dict[str, str] = {}
    for reason in reasons:
        seen[reason.rule] = f"{_json_text(reason.rule)}: {_json_text(reason.evidence)}"
    return "{" + ", ".join(seen.values()) + "}"


def _stored(row: _Open, reasons: list[Reason]) -> str | None:
    """None when the open escalation's words and evidence are these reasons', else the words."""
    text = (reasons[0].text if len(reasons) == 1 else reasons_text(reasons))[:REASON_CHARS]
    # The column's JSON is json.dumps' (SQLAlchemy's serializer): equal text, equal evidence.
    if text == row.reason and _evidence_json(reasons) == row.evidence_json:
        return None
    return text


def _merge(row: _Open, reasons: list[Reason], now: datetime) -> dict[str, Any] | None:
    """The update that brings an open escalation's reasons up to date (None: they are)."""
    text = _stored(row, reasons)
    if text is None:
        return None
    return {"id": row.id, "reason": text, "evidence": _evidence(reasons), "updated_at": now}


def _why_closed(row: _Open, loaded: LoadedFacts, policy: Policy, calendar: Calendar) -> str:
    facts: EscalationFacts | None = loaded.facts.get(row.customer_id)
    if facts is None:
        return account_gone_reason(None)
    today = calendar.today(loaded.collectors[row.customer_id])
    return close_reason(facts, segment_of(facts, policy, today), row.held, today)


def _close_gone(
    uow: UnitOfWork, gone: list[_Open], *, now: datetime, actor: str,
    why: Callable[[_Open], str],
) -> list[int]:
    """Close the open escalations no rule holds for any more, each with its reason."""
    if not gone:
        return []
    reasons = {row.id: why(row) for row in gone}
    connection = uow.session.connection()
    rows = uow.session.scalars(
        select(Escalation).where(key_in(connection, Escalation.id, list(reasons))))
    for escalation in rows:
        close_escalation(uow, escalation, status=EscalationStatus.CLOSED, now=now, actor=actor,
                         reason=reasons[escalation.id])
    return sorted(reasons)


def _open_new(
    uow: UnitOfWork, findings: dict[int, _Finding], *, now: datetime, actor: str
) -> list[int]:
    """One escalation per account the rules name, unless a decision already settled its causes.

    Written in bulk (one INSERT ... RETURNING, one INSERT of audit events): a first run on a
    large book opens thousands.
    """
    if not findings:
        return []
    settled = _settled(uow.session, list(findings))
    rows = [
        {
            "customer_id": customer_id,
            "reason": reasons_text(finding.reasons)[:REASON_CHARS],
            "level": finding.segment.escalation_path[0],
            "status": EscalationStatus.OPEN,
            "evidence": _evidence(finding.reasons),
            "created_at": now,
            "step": 1,
        }
        for customer_id, finding in sorted(findings.items())  # ids in account order
        if not is_settled(finding.reasons, settled.get(customer_id, {}))
    ]
    if not rows:
        return []
    ids = list(uow.session.scalars(
        insert(Escalation).returning(Escalation.id, sort_by_parameter_order=True), rows))
    uow.session.execute(insert(AuditEvent), [
        {"at": now, "actor": actor, "action": "escalation.opened", "entity": "escalation",
         "entity_id": str(escalation_id),
         "detail": {"customer_id": row["customer_id"], "reason": row["reason"]}}
        for escalation_id, row in zip(ids, rows, strict=True)
    ])
    return ids


def _settled(session: Session, customer_ids: list[int]) -> dict[int, dict[str, str]]:
    """Per customer: the causes its latest decided escalation settled."""
    connection = session.connection()
    rows = session.execute(
        select(Escalation.customer_id, Escalation.evidence)
        .where(key_in(connection, Escalation.customer_id, customer_ids),
               Escalation.status == EscalationStatus.DECIDED)
        .order_by(Escalation.customer_id, Escalation.closed_at, Escalation.id)
    ).all()
    return {customer: dict(evidence or {}) for customer, evidence in rows}  # the last one wins


def close_escalation(  # noqa: PLR0913 (a closing names who, why and how)
    uow: UnitOfWork,
    escalation: Escalation,
    *,
    status: EscalationStatus,
    reason: str,
    now: datetime,
    actor: str,
    decision: str | None = None,
    decided_by_id: int | None = None,
) -> None:
    """Close an open escalation: by itself (status closed) or by a decision (status decided,
    with the decision and who made it); audited, not committed."""
    if escalation.status is not EscalationStatus.OPEN:
        raise ValueError(f"escalation {escalation.id} is already {escalation.status.value}")
    if status is EscalationStatus.OPEN:
        raise ValueError("closing needs a closed or decided status")
    escalation.status = status
    escalation.closed_at = now
    escalation.close_reason = reason[:CLOSE_REASON_CHARS]
    if status is EscalationStatus.DECIDED:
        escalation.decision, escalation.decided_by_id, escalation.decided_at = (
            decision, decided_by_id, now)
    uow.audit(actor, f"escalation.{status.value}", "escalation", escalation.id,
              customer_id=escalation.customer_id, reason=escalation.close_reason,
              decision=decision)
    withdraw_replies(uow.session, escalation.id, now=now,
                     why=f"escalation {status.value} before it was sent")


# --- listing -------------------------------------------------------------------------------


def _listing(member: TeamMember | None) -> Select[tuple[Escalation, Customer, str]]:
    if member is not None:
        return open_escalations_for(member)
    collector = aliased(TeamMember)
    return (
        select(Escalation, Customer, collector.name)
        .join(Customer, Customer.id == Escalation.customer_id)
        .outerjoin(collector, collector.id == Customer.collector_id)
        .where(Escalation.status == EscalationStatus.OPEN)
        .order_by(Escalation.created_at, Escalation.id)
    )


def open_escalations(
    session: Session, *, today: date, member: TeamMember | None = None, limit: int | None = None
) -> list[OpenEscalation]:
    """Open escalations, oldest first: all of them, or those `member` sees (as their App Home
    and /collect escalations do), each with its account's past due on `today`."""
    query = _listing(member)
    rows = session.execute(query if limit is None else query.limit(limit)).all()
    if not rows:
        return []
    balances = _past_due(session, [customer.id for _, customer, _ in rows], today)
    return [_open_line(session, escalation, customer, collector_name, balances, today)
            for escalation, customer, collector_name in rows]


def _open_line(  # noqa: PLR0913, PLR0917 (one row's parts)
    session: Session, escalation: Escalation, customer: Customer, collector_name: str | None,
    balances: dict[int, tuple[Decimal, date | None]], today: date,
) -> OpenEscalation:
    collector = customer.collector
    manager = session.get(TeamMember, collector.manager_id) if collector and \
        collector.manager_id else None
    past_due, oldest = balances.get(customer.id, (Decimal("0.00"), None))
    return OpenEscalation(
        escalation_id=escalation.id,
        customer_id=customer.id,
        external_ref=customer.external_ref,
        customer_name=customer.name,
        customer_status=customer.status,
        collector_name=collector_name,
        collector_slack_id=collector.slack_user_id if collector else None,
        manager_slack_id=manager.slack_user_id if manager else None,
        level=escalation.level,
        reason=escalation.reason,
        opened_at=escalation.created_at,
        updated_at=escalation.updated_at,
        past_due=past_due,
        days_past_due=days_past_due(oldest, today) if oldest else 0,
        snoozed_until=escalation.snoozed_until,
    )


def past_due_of(session: Session, customer_ids: list[int], today: date) -> dict[int, Decimal]:
    """Each account's past due outside disputes on `today` (absent: nothing past due)."""
    return {customer: total for customer, (total, _) in
            _past_due(session, customer_ids, today).items()}


def _past_due(
    session: Session, customer_ids: list[int], today: date
) -> dict[int, tuple[Decimal, date | None]]:
    connection = session.connection()
    rows = connection.execute(
        past_due_totals(today).where(key_in(connection, Invoice.customer_id, customer_ids))
    ).all()
    return {customer: (money_value(total), date_value(oldest)) for customer, total, oldest in rows}



# --- one escalation ------------------------------------------------------------------------

LAST_ATTEMPTS = 5


def escalation_detail(
    session: Session, escalation: Escalation, *, today: date, zone: ZoneInfo
) -> EscalationDetail:
    """What the manager's message shows of one escalation: the account's past due and aging,
    days since the last contact, attempts and the last five outcomes with notes, promises kept
    and broken, the collector (times in `zone`)."""
    summary = account_summary(session, escalation.customer_id, today=today)
    customer = session.get_one(Customer, escalation.customer_id)
    calls = [a for a in summary.recent_attempts if a.outcome in CALL_OUTCOMES]
    counts = session.execute(
        select(
            select(func.count()).where(ContactAttempt.customer_id == customer.id,
                                       ContactAttempt.outcome.in_(sorted(CALL_OUTCOMES)))
            .scalar_subquery(),
            select(func.count()).where(PromiseToPay.customer_id == customer.id,
                                       PromiseToPay.status == PromiseStatus.KEPT)
            .scalar_subquery(),
            select(func.count()).where(PromiseToPay.customer_id == customer.id,
                                       PromiseToPay.status == PromiseStatus.BROKEN)
            .scalar_subquery(),
        )
    ).one()
    last_call = max((a.at for a in calls), default=None)
    return EscalationDetail(
        escalation_id=escalation.id,
        customer_name=customer.name,
        external_ref=customer.external_ref,
        collector_name=customer.collector.name if customer.collector else None,
        collector_slack_id=customer.collector.slack_user_id if customer.collector else None,
        reason=escalation.reason,
        opened_at=escalation.created_at,
        past_due=summary.past_due,
        days_past_due=summary.days_past_due,
        aging=summary.aging,
        days_since_contact=None if last_call is None else (
            today - local_date(last_call, zone)).days,
        attempts=int(counts[0]),
        last_attempts=tuple(
            AttemptSeen(a.at, a.outcome, a.collector_name, a.note)
            for a in summary.recent_attempts[:LAST_ATTEMPTS]),
        promises_kept=int(counts[1]),
        promises_broken=int(counts[2]),
        status=escalation.status,
        close_reason=escalation.close_reason,
        closed_at=escalation.closed_at,
        zone=zone,
        snoozed=_snoozed(session, escalation, today),
    )


def _snoozed(session: Session, escalation: Escalation, today: date) -> str | None:
    """The snooze that holds, in words ("snoozed until 14 Dec by Mia: …"), or None."""
    until = escalation.snoozed_until
    if until is None or until <= today or escalation.decision != Decision.SNOOZE.value:
        return None
    by = session.get(TeamMember, escalation.decided_by_id) if escalation.decided_by_id else None
    return decision_words(Decision.SNOOZE, by=by.name if by else "a manager", until=until,
                          text=escalation.snooze_note)
