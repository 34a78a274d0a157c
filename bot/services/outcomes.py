"""Recording what happened on a call, undoing it, snoozing and reassigning accounts.

Every function here writes inside the caller's unit of work and audits the change; none of
them commits. The caller calls `uow.commit()` once the whole action succeeded, so a handler or
a test decides the transaction, and Slack is told only after the commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, exists, select, update
from sqlalchemy.exc import IntegrityError

from bot.db.models import (
    ContactAttempt,
    Customer,
    Dispute,
    DisputeInvoice,
    Invoice,
    PromiseToPay,
    TeamMember,
)
from bot.db.uow import UnitOfWork
from bot.domain.calendar import local_date
from bot.domain.money import format_money
from bot.domain.vocabulary import OUTCOME_LABELS, DisputeStatus, InvoiceStatus, Outcome
from bot.services import roster
from bot.services.accounts import customer_by_id, promise_horizon, undisputed_balance
from bot.services.errors import AlreadyRecorded, InvalidInput, NotAllowed, NotFound
from bot.views.modals import DisputeInput, PromiseInput, over_the_balance
from bot.views.text import inline, short_date

logger = logging.getLogger(__name__)

UNDO_WINDOW = timedelta(minutes=10)
MAX_SNOOZE_DAYS = 90
NOTE_CHARS = 3000
ZERO = Decimal("0.00")
Source = Literal["button", "modal", "command"]
SOURCES: frozenset[str] = frozenset({"button", "modal", "command"})


@dataclass(frozen=True, slots=True)
class RecordedAttempt:
    """A contact attempt as stored; `created` is False only on AlreadyRecorded.existing."""

    attempt_id: int
    customer_id: int
    customer_name: str
    outcome: Outcome
    at: datetime
    created: bool
    promise_id: int | None = None
    dispute_id: int | None = None
    by_name: str = ""


class DuplicateAttempt(AlreadyRecorded):
    """AlreadyRecorded carrying the attempt the idempotency key already recorded."""

    def __init__(self, existing: RecordedAttempt, zone: ZoneInfo | None = None) -> None:
        label = OUTCOME_LABELS[existing.outcome].lower()
        when = existing.at.astimezone(zone) if zone is not None else existing.at
        super().__init__(
            f"Already recorded for {inline(existing.customer_name, 80)}"
            f" by {inline(existing.by_name, 40)} at {when:%H:%M} on {short_date(when.date())}"
            f" ({label}) — Undo to change it."
        )
        self.existing = existing


@dataclass(frozen=True, slots=True)
class UndoResult:
    """What an undo removed."""

    attempt_id: int
    customer_id: int
    customer_name: str
    outcome: Outcome
    idempotency_key: str | None
    promises_removed: int
    disputes_removed: int


@dataclass(frozen=True, slots=True)
class AccountChange:
    """An account after a snooze or an assignment."""

    customer_id: int
    external_ref: str
    customer_name: str
    collector_name: str | None
    previous_collector_name: str | None = None
    snoozed_until: date | None = None


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")


def _today(member: TeamMember, now: datetime, default_tz: str | ZoneInfo) -> date:
    return local_date(now, roster.member_zone(member, default_tz))


def _check_details(
    outcome: Outcome,
    promise: PromiseInput | None,
    dispute: DisputeInput | None,
    callback_at: datetime | None,
) -> None:
    if outcome is Outcome.PROMISE_TO_PAY and promise is None:
        raise InvalidInput("A promise to pay needs an amount and a date.")
    if outcome is not Outcome.PROMISE_TO_PAY and promise is not None:
        raise InvalidInput("Only a promise to pay takes an amount and a date.")
    if outcome is Outcome.DISPUTE and dispute is None:
        raise InvalidInput("A dispute needs a reason.")
    if outcome is not Outcome.DISPUTE and dispute is not None:
        raise InvalidInput("Only a dispute takes a reason and invoices.")
    if callback_at is not None:
        if outcome is not Outcome.CALLBACK_REQUESTED:
            raise InvalidInput("Only a callback request takes a callback time.")
        if callback_at.tzinfo is None:
            raise ValueError("callback_at must be timezone-aware")


def _check_promise(
    uow: UnitOfWork, customer: Customer, promise: PromiseInput, today: date
) -> None:
    if promise.amount <= ZERO or promise.amount != promise.amount.quantize(Decimal("0.01")):
        raise InvalidInput("The promised amount must be more than $0, in whole cents.")
    limit = undisputed_balance(uow.session, customer.id)
    if promise.amount > limit:
        raise InvalidInput(f"{format_money(promise.amount)} is {over_the_balance(limit)}.")
    if promise.promised_date < today:
        raise InvalidInput(f"The promise date {promise.promised_date} is in the past.")
    horizon = promise_horizon(uow.session, customer, today=today)
    last = today + timedelta(days=horizon)
    if promise.promised_date > last:
        raise InvalidInput(
            f"Pick a promise date within {horizon} days (by {last.isoformat()})."
        )


def _clean_note(note: str | None) -> str | None:
    """The note without surrounding space (None when blank); refused when too long."""
    cleaned = note.strip() if note is not None else ""
    if len(cleaned) > NOTE_CHARS:
        raise InvalidInput(f"Keep the note under {NOTE_CHARS} characters.")
    return cleaned or None


def _dispute_invoices(uow: UnitOfWork, customer: Customer, dispute: DisputeInput) -> list[Invoice]:
    open_invoices = list(
        uow.session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer.id, Invoice.status == InvoiceStatus.OPEN)
            .order_by(Invoice.due_date, Invoice.id)
        )
    )
    if not dispute.invoice_ids:
        # No invoice named (e.g. from /collect): the dispute covers every open invoice not
        # already in one, so the account stops being chased for what the customer contests.
        undisputed = [i for i in open_invoices if not i.disputed]
        if not undisputed:
            raise InvalidInput(
                f"Nothing left to dispute on {inline(customer.name, 80)}: every open invoice "
                "is already in a dispute."
            )
        return undisputed
    by_id = {i.id: i for i in open_invoices}
    missing = [i for i in dispute.invoice_ids if i not in by_id]
    if missing:
        raise InvalidInput("An invoice in the dispute is not open on this account any more.")
    return [by_id[i] for i in dispute.invoice_ids]


def _existing(uow: UnitOfWork, idempotency_key: str) -> RecordedAttempt | None:
    row = uow.session.execute(
        select(ContactAttempt, Customer.name, TeamMember.name)
        .join(Customer, Customer.id == ContactAttempt.customer_id)
        .join(TeamMember, TeamMember.id == ContactAttempt.collector_id)
        .where(ContactAttempt.idempotency_key == idempotency_key)
    ).first()
    if row is None:
        return None
    attempt, name, by_name = row
    return RecordedAttempt(
        attempt.id, attempt.customer_id, name, attempt.outcome, attempt.at, created=False,
        by_name=by_name,
    )


def _insert_attempt(
    uow: UnitOfWork, attempt: ContactAttempt, zone: ZoneInfo
) -> ContactAttempt:
    """Add the attempt in a savepoint; DuplicateAttempt when its key was recorded meanwhile."""
    session = uow.session
    try:
        with session.begin_nested():
            session.add(attempt)
            session.flush()
    except IntegrityError:
        # Another request with the same key committed first: report its attempt, write nothing.
        key = attempt.idempotency_key
        existing = _existing(uow, key) if key is not None else None
        if existing is None:
            raise
        raise DuplicateAttempt(existing, zone) from None
    return attempt


def _store_promise(uow: UnitOfWork, attempt: ContactAttempt, promise: PromiseInput) -> int:
    # Made when the attempt was (the injected now), never the wall clock: the promises job and
    # the importer judge payments from that day on.
    row = PromiseToPay(
        customer_id=attempt.customer_id, collector_id=attempt.collector_id,
        attempt_id=attempt.id, amount=promise.amount, promised_date=promise.promised_date,
        created_at=attempt.at,
    )
    uow.session.add(row)
    uow.session.flush()
    return row.id


def _store_dispute(
    uow: UnitOfWork, attempt: ContactAttempt, dispute: DisputeInput, invoices: list[Invoice]
) -> int:
    opened = Dispute(
        customer_id=attempt.customer_id, attempt_id=attempt.id, reason=dispute.reason,
        note=dispute.note, opened_by_id=attempt.collector_id, opened_at=attempt.at,
    )
    uow.session.add(opened)
    uow.session.flush()
    for invoice in invoices:
        uow.session.add(DisputeInvoice(dispute_id=opened.id, invoice_id=invoice.id))
        invoice.disputed = True
    uow.session.flush()
    return opened.id


def record_outcome(  # noqa: PLR0913 - the outcome's optional details are keyword-only
    uow: UnitOfWork,
    *,
    actor_slack_id: str,
    customer_id: int,
    outcome: Outcome,
    source: Source,
    now: datetime,
    note: str | None = None,
    idempotency_key: str | None = None,
    promise: PromiseInput | None = None,
    dispute: DisputeInput | None = None,
    callback_at: datetime | None = None,
    default_tz: str | ZoneInfo = "UTC",
) -> RecordedAttempt:
    """Store one contact attempt (and its promise or dispute); the caller commits.

    A second call with the same idempotency key writes nothing and raises DuplicateAttempt
    (an AlreadyRecorded) whose `.existing` is the first attempt, also under concurrency: the
    key's unique constraint decides, inside a savepoint.
    """
    _require_aware(now)
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}")
    _check_details(outcome, promise, dispute, callback_at)
    note = _clean_note(note)
    if dispute is not None:
        _clean_note(dispute.note)
    if outcome is Outcome.NOTE and note is None:
        raise InvalidInput("Write the note first.")
    session = uow.session
    member = roster.member_for(session, actor_slack_id)
    zone = roster.member_zone(member, default_tz)
    if idempotency_key is not None:
        existing = _existing(uow, idempotency_key)
        if existing is not None:
            raise DuplicateAttempt(existing, zone)
    customer = customer_by_id(session, customer_id)
    roster.require_can_act(member, customer, covering=roster.covering_today(
        session, member, customer, now=now, default_tz=default_tz))
    today = _today(member, now, default_tz)
    if promise is not None:
        _check_promise(uow, customer, promise, today)
    invoices = _dispute_invoices(uow, customer, dispute) if dispute is not None else []
    attempt = _insert_attempt(uow, ContactAttempt(
        customer_id=customer.id, collector_id=member.id, at=now, outcome=outcome,
        source=source, note=note, callback_at=callback_at, idempotency_key=idempotency_key,
    ), zone)
    promise_id = dispute_id = None
    if promise is not None:
        promise_id = _store_promise(uow, attempt, promise)
    if dispute is not None:
        dispute_id = _store_dispute(uow, attempt, dispute, invoices)
    uow.audit(
        actor_slack_id, "attempt.recorded", "customer", customer.id,
        outcome=outcome.value, attempt_id=attempt.id, source=source,
        promise_id=promise_id, dispute_id=dispute_id,
    )
    logger.info("attempt %s recorded on customer %s by %s (%s, %s)",
                attempt.id, customer.id, actor_slack_id, outcome.value, source,
                extra={"account": customer.external_ref})
    return RecordedAttempt(
        attempt.id, customer.id, customer.name, outcome, now, created=True,
        promise_id=promise_id, dispute_id=dispute_id,
    )


def undo_outcome(
    uow: UnitOfWork,
    *,
    actor_slack_id: str,
    attempt_id: int,
    now: datetime,
    idempotency_key: str | None = None,
) -> UndoResult:
    """Delete an attempt and what it created, within 10 minutes, by its author or their manager.

    With `idempotency_key`, only an attempt recorded under that key (e.g. from that list row).
    """
    _require_aware(now)
    session = uow.session
    member = roster.member_for(session, actor_slack_id)
    attempt = session.get(ContactAttempt, attempt_id)
    if attempt is None:
        raise NotFound("That outcome is not recorded any more (already undone?).")
    if idempotency_key is not None and attempt.idempotency_key != idempotency_key:
        logger.warning("undo of attempt %s by %s refused: not recorded from that row",
                       attempt_id, actor_slack_id)
        raise InvalidInput("That Undo button does not match its row; refresh the list.")
    author = session.get(TeamMember, attempt.collector_id)
    if attempt.collector_id != member.id and not roster.manages(member, author):
        raise NotAllowed("Only the person who recorded it, their manager or an admin can undo it.")
    if now - attempt.at > UNDO_WINDOW:
        raise NotAllowed(
            f"Undo is only possible for {UNDO_WINDOW.seconds // 60} minutes after recording."
        )
    customer = customer_by_id(session, attempt.customer_id)
    disputes = list(session.scalars(select(Dispute).where(Dispute.attempt_id == attempt.id)))
    restored: set[int] = set()
    for dispute in disputes:
        invoice_ids = list(session.scalars(
            select(DisputeInvoice.invoice_id).where(DisputeInvoice.dispute_id == dispute.id)
        ))
        session.execute(delete(DisputeInvoice).where(DisputeInvoice.dispute_id == dispute.id))
        restored.update(invoice_ids)
    if disputes:
        session.execute(delete(Dispute).where(Dispute.attempt_id == attempt.id))
    if restored:
        # An invoice stays disputed while another open dispute still names it.
        still = exists().where(
            DisputeInvoice.invoice_id == Invoice.id,
            DisputeInvoice.dispute_id == Dispute.id,
            Dispute.status == DisputeStatus.OPEN,
        )
        session.execute(
            update(Invoice)
            .where(Invoice.id.in_(sorted(restored)), ~still)
            .values(disputed=False)
            .execution_options(synchronize_session="fetch")
        )
    promises = len(session.scalars(
        select(PromiseToPay.id).where(PromiseToPay.attempt_id == attempt.id)
    ).all())
    session.execute(delete(PromiseToPay).where(PromiseToPay.attempt_id == attempt.id))
    result = UndoResult(
        attempt.id, customer.id, customer.name, attempt.outcome, attempt.idempotency_key,
        promises_removed=promises, disputes_removed=len(disputes),
    )
    session.delete(attempt)
    session.flush()
    uow.audit(
        actor_slack_id, "attempt.undone", "customer", customer.id,
        attempt_id=result.attempt_id, outcome=result.outcome.value,
        promises_removed=result.promises_removed, disputes_removed=result.disputes_removed,
    )
    logger.info("attempt %s on customer %s undone by %s", attempt_id, customer.id, actor_slack_id,
                extra={"account": customer.external_ref})
    return result


def snooze(
    uow: UnitOfWork,
    *,
    actor_slack_id: str,
    customer_id: int,
    until: date,
    now: datetime,
    default_tz: str | ZoneInfo = "UTC",
) -> AccountChange:
    """Leave the account off call lists until `until` (after today, at most 90 days ahead)."""
    _require_aware(now)
    session = uow.session
    member = roster.member_for(session, actor_slack_id)
    customer = customer_by_id(session, customer_id)
    roster.require_can_act(member, customer, covering=roster.covering_today(
        session, member, customer, now=now, default_tz=default_tz))
    today = _today(member, now, default_tz)
    if until <= today:
        raise InvalidInput("Snooze until a day after today.")
    if until > today + timedelta(days=MAX_SNOOZE_DAYS):
        raise InvalidInput(f"Snooze for at most {MAX_SNOOZE_DAYS} days.")
    previous = customer.snoozed_until
    customer.snoozed_until = until
    session.flush()
    uow.audit(
        actor_slack_id, "customer.snoozed", "customer", customer.id,
        until=until.isoformat(), previous=previous.isoformat() if previous else None,
    )
    return AccountChange(
        customer.id, customer.external_ref, customer.name,
        customer.collector.name if customer.collector else None, snoozed_until=until,
    )


def assign(
    uow: UnitOfWork,
    *,
    actor_slack_id: str,
    customer_id: int,
    collector_slack_id: str,
    now: datetime,
) -> AccountChange:
    """Hand the account to an active collector (managers for their team, admins for anyone)."""
    _require_aware(now)
    session = uow.session
    member = roster.member_for(session, actor_slack_id)
    roster.require_manager(member)
    customer = customer_by_id(session, customer_id)
    roster.require_can_act(member, customer)
    target = roster.collector_for_assignment(session, member, collector_slack_id)
    previous = customer.collector
    if previous is not None and previous.id == target.id:
        raise InvalidInput(
            f"{inline(customer.name, 80)} is already {inline(target.name, 40)}'s account."
        )
    customer.collector_id = target.id
    session.flush()
    session.refresh(customer, ["collector"])
    uow.audit(
        actor_slack_id, "customer.assigned", "customer", customer.id,
        collector_id=target.id, previous_collector_id=previous.id if previous else None,
    )
    logger.info("customer %s assigned to member %s by %s", customer.id, target.id,
                actor_slack_id)
    return AccountChange(
        customer.id, customer.external_ref, customer.name, target.name,
        previous_collector_name=previous.name if previous else None,
    )
