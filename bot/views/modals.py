"""Modals that ask for an outcome's details, and the parsers that read their submissions.

A parser returns either the typed input or {block_id: message}; the handler answers Slack with
{"response_action": "errors", "errors": that_dict}, which shows each message under its input.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from bot.domain.money import DECIMAL_POINT, MoneyError, parse_money
from bot.slack.blockkit import MAX_OPTION_TEXT, MAX_SELECT_OPTIONS, MAX_TEXT_INPUT_LENGTH
from bot.views import actions
from bot.views.text import Block, money, plain, short_date, truncate, zone_named

# Block ids double as the keys of the errors dict; action ids match them for simplicity.
AMOUNT = "amount"
PROMISED_DATE = "promised_date"
DISPUTE_REASON = "dispute_reason"
DISPUTE_INVOICES = "dispute_invoices"
DISPUTE_NOTE = "dispute_note"
CALLBACK_DATE = "callback_date"
CALLBACK_TIME = "callback_time"
NOTE = "note"
SNOOZE_DAYS = "snooze_days"

TITLE_CHARS = 24
NOTE_CHARS = MAX_TEXT_INPUT_LENGTH
CUSTOMER_CHARS = 150

DISPUTE_REASONS: tuple[tuple[str, str], ...] = (
    ("pricing", "Pricing"),
    ("quality", "Quality"),
    ("not_received", "Not received"),
    ("duplicate_billing", "Duplicate billing"),
    ("already_paid", "Already paid"),
    ("other", "Other"),
)
_DISPUTE_REASON_KEYS = frozenset(key for key, _ in DISPUTE_REASONS)

# "$1,200", "1200", "1,200.50", "$ 75.5": commas only in proper thousands groups.
_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME_RE = re.compile(r"([01][0-9]|2[0-3]):([0-5][0-9])")


@dataclass(frozen=True, slots=True)
class InvoiceChoice:
    """An open invoice the collector can name in a dispute."""

    invoice_id: int
    number: str
    balance: Decimal
    due_date: date


@dataclass(frozen=True, slots=True)
class PromiseInput:
    amount: Decimal
    promised_date: date


@dataclass(frozen=True, slots=True)
class DisputeInput:
    reason: str
    invoice_ids: tuple[int, ...]
    note: str | None


@dataclass(frozen=True, slots=True)
class CallbackInput:
    at: datetime  # aware, UTC


@dataclass(frozen=True, slots=True)
class NoteInput:
    text: str


@dataclass(frozen=True, slots=True)
class SnoozeInput:
    days: int
    until: date


Errors = dict[str, str]


def _modal(
    callback_id: str,
    title: str,
    metadata: actions.ModalMetadata,
    blocks: list[Block],
    submit: str = "Save",
) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "title": plain(truncate(title, TITLE_CHARS)),
        "submit": plain(submit),
        "close": plain("Cancel"),
        "private_metadata": actions.encode_metadata(metadata),
        "blocks": blocks,
    }


def _customer_context(customer_name: str, detail: str) -> Block:
    # plain_text, so a customer's name can never render as markup.
    text = f"{truncate(' '.join(customer_name.split()), CUSTOMER_CHARS)} · {detail}"
    return {"type": "context", "elements": [plain(text)]}


def _input(block_id: str, label: str, element: dict[str, Any], **extra: Any) -> Block:
    return {
        "type": "input",
        "block_id": block_id,
        "label": plain(label),
        "element": {"action_id": block_id, **element},
        **extra,
    }


def promise_modal(
    metadata: actions.ModalMetadata, *, customer_name: str, past_due: Decimal, today: date
) -> dict[str, Any]:
    """Amount (the past-due balance to start with) and date (today to start with)."""
    return _modal(
        actions.CALLBACK_PROMISE_MODAL,
        "Promise to pay",
        metadata,
        [
            _customer_context(customer_name, f"{money(past_due)} past due"),
            _input(
                AMOUNT,
                "Amount",
                {
                    "type": "plain_text_input",
                    "initial_value": f"{past_due:.2f}" if past_due > 0 else "",
                    "placeholder": plain("e.g. $1,200"),
                    "max_length": 20,
                },
            ),
            _input(
                PROMISED_DATE,
                "Pay by",
                {"type": "datepicker", "initial_date": today.isoformat()},
            ),
        ],
    )


def dispute_modal(
    metadata: actions.ModalMetadata, *, customer_name: str, invoices: Sequence[InvoiceChoice]
) -> dict[str, Any]:
    """Reason, the disputed invoices (oldest first, at most 100 offered) and a note."""
    blocks: list[Block] = [_customer_context(customer_name, "open a dispute")]
    blocks.append(
        _input(
            DISPUTE_REASON,
            "Reason",
            {
                "type": "static_select",
                "placeholder": plain("Pick a reason"),
                "options": [{"text": plain(label), "value": key} for key, label in DISPUTE_REASONS],
            },
        )
    )
    offered = sorted(invoices, key=lambda inv: (inv.due_date, inv.invoice_id))
    if offered:
        hint = None
        if len(offered) > MAX_SELECT_OPTIONS:
            hint = (
                f"Showing the {MAX_SELECT_OPTIONS} oldest of {len(offered)} open invoices."
                " Dispute the rest in a second step."
            )
            offered = offered[:MAX_SELECT_OPTIONS]
        extra: dict[str, Any] = {"hint": plain(hint)} if hint else {}
        blocks.append(
            _input(
                DISPUTE_INVOICES,
                "Invoices",
                {
                    "type": "multi_static_select",
                    "placeholder": plain("Which invoices?"),
                    "options": [_invoice_option(inv) for inv in offered],
                },
                **extra,
            )
        )
    blocks.append(
        _input(
            DISPUTE_NOTE,
            "Note",
            {"type": "plain_text_input", "multiline": True, "max_length": NOTE_CHARS},
            optional=True,
            hint=plain("Required when the reason is Other."),
        )
    )
    return _modal(actions.CALLBACK_DISPUTE_MODAL, "Dispute", metadata, blocks)


def _invoice_option(invoice: InvoiceChoice) -> dict[str, Any]:
    number = " ".join(invoice.number.split()) or f"#{invoice.invoice_id}"
    due = invoice.due_date
    # Old invoices can be a year back, so the year is part of the date here.
    tail = f" · {money(invoice.balance)} · due {due.day} {due:%b %Y}"
    text = truncate(number, max(MAX_OPTION_TEXT - len(tail), 10)) + tail
    return {"text": plain(truncate(text, MAX_OPTION_TEXT)), "value": str(invoice.invoice_id)}


def callback_modal(
    metadata: actions.ModalMetadata, *, customer_name: str, tz: str, today: date
) -> dict[str, Any]:
    """Date and time of the callback the customer asked for, in the collector's own zone."""
    zone_named(tz)
    return _modal(
        actions.CALLBACK_CALLBACK_MODAL,
        "Callback",
        metadata,
        [
            _customer_context(customer_name, "callback requested"),
            _input(
                CALLBACK_DATE, "Date", {"type": "datepicker", "initial_date": today.isoformat()}
            ),
            _input(
                CALLBACK_TIME,
                "Time",
                {"type": "timepicker", "placeholder": plain("Pick a time")},
                hint=plain(f"In your time zone ({tz})."),
            ),
        ],
    )


def note_modal(metadata: actions.ModalMetadata, *, customer_name: str) -> dict[str, Any]:
    """A free-text note on the account."""
    return _modal(
        actions.CALLBACK_NOTE_MODAL,
        "Note",
        metadata,
        [
            _customer_context(customer_name, "add a note"),
            _input(
                NOTE,
                "Note",
                {"type": "plain_text_input", "multiline": True, "max_length": NOTE_CHARS},
            ),
        ],
    )


def snooze_modal(
    metadata: actions.ModalMetadata, *, customer_name: str, max_days: int
) -> dict[str, Any]:
    """How many days to keep the account off the list."""
    return _modal(
        actions.CALLBACK_SNOOZE_MODAL,
        "Snooze",
        metadata,
        [
            _customer_context(customer_name, "keep off the list"),
            _input(
                SNOOZE_DAYS,
                "Days",
                {
                    "type": "number_input",
                    "is_decimal_allowed": False,
                    "min_value": "1",
                    "max_value": str(max_days),
                    "initial_value": "1",
                },
                hint=plain(f"1 to {max_days} days."),
            ),
        ],
        submit="Snooze",
    )


def _state(state_values: Mapping[str, Any], block_id: str) -> Mapping[str, Any] | None:
    """The one action's state inside an input block, or None when absent or malformed."""
    block = state_values.get(block_id)
    if not isinstance(block, Mapping):
        return None
    action = block.get(block_id)
    return action if isinstance(action, Mapping) else None


def _text_value(state_values: Mapping[str, Any], block_id: str) -> str:
    action = _state(state_values, block_id)
    value = action.get("value") if action is not None else None
    return value.strip() if isinstance(value, str) else ""


def _date_value(state_values: Mapping[str, Any], block_id: str) -> date | None:
    action = _state(state_values, block_id)
    value = action.get("selected_date") if action is not None else None
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def parse_amount(text: str) -> Decimal:
    """A positive amount typed in Slack ("$1,200" is 1200); ValueError says why not.

    Read by the one money parser (`bot.domain.money`) with a decimal point.
    """
    try:
        amount = parse_money(text, DECIMAL_POINT, signed=False)
    except MoneyError as error:
        if error.kind == "decimals":
            raise ValueError("Use at most two decimals (cents).") from None
        raise ValueError("Enter an amount like 1200 or $1,200.50.") from None
    if amount <= 0:
        raise ValueError("The amount must be more than $0.")
    return amount


def over_the_balance(limit: Decimal) -> str:
    """Why a promise is too big, the same from the modal and from `/collect promise`."""
    return f"more than the balance not in dispute ({money(limit)})"


def parse_promise(
    state_values: Mapping[str, Any], *, today: date, horizon_days: int, max_amount: Decimal
) -> PromiseInput | Errors:
    """The promise's amount and date, or the error under each input that is wrong."""
    errors: Errors = {}
    amount: Decimal | None = None
    try:
        amount = parse_amount(_text_value(state_values, AMOUNT))
    except ValueError as error:
        errors[AMOUNT] = str(error)
    if amount is not None and amount > max_amount:
        errors[AMOUNT] = f"That is {over_the_balance(max_amount)}."
    promised = _date_value(state_values, PROMISED_DATE)
    last = today + timedelta(days=horizon_days)
    if promised is None:
        errors[PROMISED_DATE] = "Pick the date they will pay by."
    elif promised < today:
        errors[PROMISED_DATE] = "Pick today or a later date."
    elif promised > last:
        errors[PROMISED_DATE] = (
            f"Pick a date within {horizon_days} days (by {short_date(last)} {last.year})."
        )
    if errors or amount is None or promised is None:
        return errors
    return PromiseInput(amount=amount, promised_date=promised)


def parse_dispute(
    state_values: Mapping[str, Any], *, open_invoice_ids: Sequence[int]
) -> DisputeInput | Errors:
    """Reason, invoices (only ones still open for this customer) and note, or the errors."""
    errors: Errors = {}
    reason_state = _state(state_values, DISPUTE_REASON)
    selected = reason_state.get("selected_option") if reason_state is not None else None
    reason = selected.get("value") if isinstance(selected, Mapping) else None
    if reason not in _DISPUTE_REASON_KEYS:
        errors[DISPUTE_REASON] = "Pick a reason."
    invoice_ids: list[int] = []
    if open_invoice_ids:
        invoices_state = _state(state_values, DISPUTE_INVOICES)
        chosen = invoices_state.get("selected_options") if invoices_state is not None else None
        allowed = set(open_invoice_ids)
        if not isinstance(chosen, list) or not chosen:
            errors[DISPUTE_INVOICES] = "Pick at least one invoice."
        else:
            for option in chosen:
                value = option.get("value") if isinstance(option, Mapping) else None
                if not isinstance(value, str) or not value.isascii() or not value.isdigit():
                    errors[DISPUTE_INVOICES] = "That invoice list is not valid; pick again."
                    break
                if int(value) not in allowed:
                    errors[DISPUTE_INVOICES] = (
                        "An invoice you picked is no longer open; pick again."
                    )
                    break
                invoice_ids.append(int(value))
    note = _text_value(state_values, DISPUTE_NOTE)
    if len(note) > NOTE_CHARS:
        errors[DISPUTE_NOTE] = f"Keep the note under {NOTE_CHARS} characters."
    elif reason == "other" and not note:
        errors[DISPUTE_NOTE] = "Say what the dispute is about when the reason is Other."
    if errors or not isinstance(reason, str):
        return errors
    return DisputeInput(
        reason=reason, invoice_ids=tuple(sorted(set(invoice_ids))), note=note or None
    )


def parse_callback(
    state_values: Mapping[str, Any], *, now: datetime, tz: str, horizon_days: int
) -> CallbackInput | Errors:
    """The callback time read in the collector's zone, returned in UTC; it must be ahead."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    zone = zone_named(tz)
    errors: Errors = {}
    day = _date_value(state_values, CALLBACK_DATE)
    if day is None:
        errors[CALLBACK_DATE] = "Pick a date."
    time_state = _state(state_values, CALLBACK_TIME)
    raw_time = time_state.get("selected_time") if time_state is not None else None
    match = _TIME_RE.fullmatch(raw_time) if isinstance(raw_time, str) else None
    if match is None:
        errors[CALLBACK_TIME] = "Pick a time."
    if errors or day is None or match is None:
        return errors
    local = datetime.combine(day, time(int(match[1]), int(match[2])), tzinfo=zone)
    at = local.astimezone(UTC)
    # A wall-clock time skipped by a daylight-saving jump does not survive the round trip.
    if at.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        return {CALLBACK_TIME: f"{raw_time} does not exist that day in {tz} (clocks change)."}
    if at <= now:
        return {CALLBACK_TIME: f"Pick a time after now ({now.astimezone(zone):%H:%M} in {tz})."}
    if at > now + timedelta(days=horizon_days):
        return {CALLBACK_DATE: f"Pick a date within {horizon_days} days."}
    return CallbackInput(at=at)


def parse_note(state_values: Mapping[str, Any]) -> NoteInput | Errors:
    """The note's text, trimmed; it must say something."""
    text = _text_value(state_values, NOTE)
    if not text:
        return {NOTE: "Write the note first."}
    if len(text) > NOTE_CHARS:
        return {NOTE: f"Keep the note under {NOTE_CHARS} characters."}
    return NoteInput(text=text)


def parse_snooze(
    state_values: Mapping[str, Any], *, today: date, max_days: int
) -> SnoozeInput | Errors:
    """Whole days from 1 to max_days, and the date the account comes back."""
    raw = _text_value(state_values, SNOOZE_DAYS)
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= max_days:
        return {SNOOZE_DAYS: f"Enter whole days from 1 to {max_days}."}
    days = int(raw)
    return SnoozeInput(days=days, until=today + timedelta(days=days))
