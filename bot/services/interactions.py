"""What a click or a modal on a call list does: one unit of work, committed, then the Slack views.

The listeners in handlers/ acknowledge Slack first and then call one function here.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from bot.db import Database
from bot.domain.calendar import local_date
from bot.domain.vocabulary import Outcome
from bot.services import accounts, roster
from bot.services.errors import InvalidInput
from bot.services.list_rows import ROW_OUTCOME_MODALS, require_row, todays_row
from bot.services.outcomes import (
    MAX_SNOOZE_DAYS,
    RecordedAttempt,
    UndoResult,
    record_outcome,
    snooze,
    undo_outcome,
)
from bot.services.refresh import refresh_after_change
from bot.slack.client import SlackGateway
from bot.views import actions, modals, replies

logger = logging.getLogger(__name__)

CALLBACK_HORIZON_DAYS = 60
STALE_FORM = "That form is out of date; open it again from the call list."

# Modal kind -> the callback_id of the view that asks for it.
MODAL_KINDS: dict[str, str] = {
    actions.ACTION_OPEN_PROMISE: actions.CALLBACK_PROMISE_MODAL,
    actions.ACTION_OPEN_DISPUTE: actions.CALLBACK_DISPUTE_MODAL,
    actions.MORE_CALLBACK: actions.CALLBACK_CALLBACK_MODAL,
    actions.MORE_NOTE: actions.CALLBACK_NOTE_MODAL,
    actions.MORE_SNOOZE: actions.CALLBACK_SNOOZE_MODAL,
}


def row_key(row: actions.RowRef) -> str:
    """The idempotency key of a call-list row: one outcome per row, however often it is clicked."""
    return f"row:{row.call_list_id}:{row.customer_id}"


def view_key(view_id: str) -> str:
    """The idempotency key of a submitted modal."""
    return f"view:{view_id}"


def _member_zone(session: Session, user_id: str, default_tz: str) -> ZoneInfo:
    return roster.member_zone(roster.member_for(session, user_id), default_tz)


def _refresh(
    database: Database, gateway: SlackGateway, call_list_id: int, *, user_id: str,
    now: datetime, default_tz: str,
) -> None:
    refresh_after_change(database, gateway, now=now, default_tz=default_tz,
                         call_list_ids=[call_list_id], actor_slack_id=user_id)


@dataclass(frozen=True, slots=True)
class RowRecorded:
    """A row's outcome as recorded, and what to tell the collector besides the refreshed list."""

    attempt: RecordedAttempt
    notice: str | None = None


def record_row_outcome(
    database: Database,
    gateway: SlackGateway,
    *,
    user_id: str,
    row: actions.RowRef,
    outcome: Outcome,
    now: datetime,
    default_tz: str,
) -> RowRecorded:
    """A one-click outcome on a list row: recorded once per row, then the views refreshed."""
    with database.uow() as uow:
        target, today = todays_row(uow.session, row, user_id, now=now)
        attempt = record_outcome(
            uow,
            actor_slack_id=user_id,
            customer_id=target.row.customer_id,
            outcome=outcome,
            source="button",
            now=now,
            idempotency_key=row_key(target.row),
            default_tz=default_tz,
        )
        uow.commit()
    _refresh(database, gateway, target.row.call_list_id, user_id=user_id, now=now,
             default_tz=default_tz)
    return RowRecorded(attempt, target.notice(today))


def undo_row(
    database: Database,
    gateway: SlackGateway,
    *,
    user_id: str,
    undo: actions.UndoRef,
    now: datetime,
    default_tz: str,
) -> UndoResult:
    """Take back an outcome (within its window, by its author or their manager), then refresh."""
    with database.uow() as uow:
        result = undo_outcome(
            uow, actor_slack_id=user_id, attempt_id=undo.attempt_id, now=now,
            idempotency_key=row_key(undo.row),
        )
        uow.commit()
    _refresh(database, gateway, undo.row.call_list_id, user_id=user_id, now=now,
             default_tz=default_tz)
    return result


def account_details(
    database: Database,
    *,
    user_id: str,
    row: actions.RowRef,
    now: datetime,
    default_tz: str,
) -> str:
    """The account behind a row in a few lines: balances, aging, promises, last attempts."""
    with database.uow(read_only=True) as uow:
        session = uow.session
        require_row(session, row, user_id)
        zone = _member_zone(session, user_id, default_tz)
        today = local_date(now, zone)
        summary = accounts.account_summary(session, row.customer_id, today=today)
    return replies.account_text(summary, today=today, zone=zone)


def modal_for(
    database: Database,
    *,
    user_id: str,
    kind: str,
    metadata: actions.ModalMetadata,
    now: datetime,
    default_tz: str,
) -> dict[str, Any]:
    """The modal that asks for an outcome's details (kind: an open:* action or a more choice)."""
    if kind not in MODAL_KINDS:
        raise InvalidInput(f"Unknown form {kind[:30]!r}.")
    with database.uow(read_only=True) as uow:
        session = uow.session
        if MODAL_KINDS[kind] in ROW_OUTCOME_MODALS:
            todays_row(session, metadata.row, user_id, now=now)  # refuse now, not after typing
        else:
            require_row(session, metadata.row, user_id)
        zone = _member_zone(session, user_id, default_tz)
        today = local_date(now, zone)
        account = accounts.account_context(session, metadata.row.customer_id, today=today)
    callback_id = MODAL_KINDS[kind]
    if callback_id == actions.CALLBACK_PROMISE_MODAL:
        return modals.promise_modal(
            metadata, customer_name=account.name, past_due=account.past_due, today=today
        )
    if callback_id == actions.CALLBACK_DISPUTE_MODAL:
        return modals.dispute_modal(
            metadata, customer_name=account.name, invoices=account.open_invoices
        )
    if callback_id == actions.CALLBACK_CALLBACK_MODAL:
        return modals.callback_modal(
            metadata, customer_name=account.name, tz=zone.key, today=today
        )
    if callback_id == actions.CALLBACK_NOTE_MODAL:
        return modals.note_modal(metadata, customer_name=account.name)
    return modals.snooze_modal(metadata, customer_name=account.name, max_days=MAX_SNOOZE_DAYS)


@dataclass(frozen=True, slots=True)
class Submission:
    """A modal's input, parsed and valid, ready to be saved after the ack."""

    callback_id: str
    metadata: actions.ModalMetadata
    customer_name: str
    details: (
        modals.PromiseInput
        | modals.DisputeInput
        | modals.CallbackInput
        | modals.NoteInput
        | modals.SnoozeInput
    )


def read_submission(
    database: Database,
    *,
    user_id: str,
    callback_id: str,
    private_metadata: object,
    state_values: Mapping[str, Any],
    now: datetime,
    default_tz: str,
) -> Submission | modals.Errors:
    """Parse a submitted modal against the account as it is now; field errors if any are wrong.

    Reads only: this runs before the ack, because Slack shows the errors from the ack itself.
    """
    if callback_id not in actions.MODAL_CALLBACK_IDS:
        raise InvalidInput(STALE_FORM)
    try:
        metadata = actions.decode_metadata(private_metadata)
    except ValueError:
        raise InvalidInput(STALE_FORM) from None
    with database.uow(read_only=True) as uow:
        session = uow.session
        zone = _member_zone(session, user_id, default_tz)
        today = local_date(now, zone)
        account = accounts.account_context(session, metadata.row.customer_id, today=today)
    parsed: object
    if callback_id == actions.CALLBACK_PROMISE_MODAL:
        parsed = modals.parse_promise(
            state_values,
            today=today,
            horizon_days=account.promise_horizon_days,
            max_amount=account.undisputed_balance,
        )
    elif callback_id == actions.CALLBACK_DISPUTE_MODAL:
        parsed = modals.parse_dispute(
            state_values, open_invoice_ids=[i.invoice_id for i in account.open_invoices]
        )
    elif callback_id == actions.CALLBACK_CALLBACK_MODAL:
        parsed = modals.parse_callback(
            state_values, now=now, tz=zone.key, horizon_days=CALLBACK_HORIZON_DAYS
        )
    elif callback_id == actions.CALLBACK_NOTE_MODAL:
        parsed = modals.parse_note(state_values)
    else:
        parsed = modals.parse_snooze(state_values, today=today, max_days=MAX_SNOOZE_DAYS)
    if isinstance(parsed, dict):
        return parsed
    assert isinstance(
        parsed,
        modals.PromiseInput
        | modals.DisputeInput
        | modals.CallbackInput
        | modals.NoteInput
        | modals.SnoozeInput,
    )
    return Submission(callback_id, metadata, account.name, parsed)


def save_submission(
    database: Database,
    gateway: SlackGateway,
    submission: Submission,
    *,
    user_id: str,
    view_id: str,
    now: datetime,
    default_tz: str,
) -> str:
    """Record a valid submission once per view (its id is the key), refresh; a line to confirm."""
    row = submission.metadata.row
    details = submission.details
    notice = None
    with database.uow() as uow:
        if isinstance(details, modals.SnoozeInput):
            require_row(uow.session, row, user_id)
            change = snooze(
                uow,
                actor_slack_id=user_id,
                customer_id=row.customer_id,
                until=details.until,
                now=now,
                default_tz=default_tz,
            )
            confirmation = replies.snoozed_text(change.customer_name, details.until)
        elif isinstance(details, modals.NoteInput):
            # A note is not the row's outcome: as many as the collector likes, one per form.
            require_row(uow.session, row, user_id)
            attempt = record_outcome(
                uow, actor_slack_id=user_id, customer_id=row.customer_id, source="modal",
                now=now, idempotency_key=view_key(view_id), default_tz=default_tz,
                **_outcome_details(details),
            )
            confirmation = replies.saved_form_text(attempt.customer_name, details)
        else:
            # The row's one outcome, whichever surface records it first: the row's key.
            target, today = todays_row(uow.session, row, user_id, now=now)
            row = target.row
            notice = target.notice(today)
            attempt = record_outcome(
                uow,
                actor_slack_id=user_id,
                customer_id=row.customer_id,
                source="modal",
                now=now,
                idempotency_key=row_key(row),
                default_tz=default_tz,
                **_outcome_details(details),
            )
            confirmation = replies.saved_form_text(attempt.customer_name, details)
        uow.commit()
    _refresh(database, gateway, row.call_list_id, user_id=user_id, now=now,
             default_tz=default_tz)
    return confirmation if notice is None else f"{notice} {confirmation}"


def _outcome_details(
    details: modals.PromiseInput | modals.DisputeInput | modals.CallbackInput | modals.NoteInput,
) -> dict[str, Any]:
    if isinstance(details, modals.PromiseInput):
        return {"outcome": Outcome.PROMISE_TO_PAY, "promise": details}
    if isinstance(details, modals.DisputeInput):
        return {"outcome": Outcome.DISPUTE, "dispute": details, "note": details.note}
    if isinstance(details, modals.CallbackInput):
        return {"outcome": Outcome.CALLBACK_REQUESTED, "callback_at": details.at}
    return {"outcome": Outcome.NOTE, "note": details.text}
