"""Action ids, button values and modal metadata: what the views send and the handlers read back.

Values come back from the network, so every decoder is strict: anything malformed raises
ValueError with a message that names what was wrong, never a half-parsed result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from bot.domain.vocabulary import Outcome

# One click records the outcome; "paid" is one click too because the payment itself arrives
# with the next ledger import, so there is nothing to type.
ACTION_REACHED = "outcome:reached"
ACTION_LEFT_VOICEMAIL = "outcome:left_voicemail"
ACTION_NO_ANSWER = "outcome:no_answer"
ACTION_PAID = "outcome:paid"
# These open a modal that asks for the details before anything is recorded.
ACTION_OPEN_PROMISE = "open:promise_to_pay"
ACTION_OPEN_DISPUTE = "open:dispute"
ACTION_MORE = "more"
ACTION_UNDO = "undo"

OUTCOME_ACTIONS: dict[str, Outcome] = {
    ACTION_REACHED: Outcome.REACHED,
    ACTION_LEFT_VOICEMAIL: Outcome.LEFT_VOICEMAIL,
    ACTION_NO_ANSWER: Outcome.NO_ANSWER,
    ACTION_PAID: Outcome.PAID,
}
MODAL_ACTIONS = frozenset({ACTION_OPEN_PROMISE, ACTION_OPEN_DISPUTE})

# The overflow ("more") menu's choices, in the order shown.
MORE_DETAILS = "details"
MORE_SNOOZE = "snooze"
MORE_CALLBACK = "callback"
MORE_NOTE = "note"
MORE_CHOICES: tuple[str, ...] = (MORE_DETAILS, MORE_SNOOZE, MORE_CALLBACK, MORE_NOTE)
MORE_LABELS: dict[str, str] = {
    MORE_DETAILS: "Details",
    MORE_SNOOZE: "Snooze",
    MORE_CALLBACK: "Callback",
    MORE_NOTE: "Note",
}

CALLBACK_PROMISE_MODAL = "promise_modal"
CALLBACK_DISPUTE_MODAL = "dispute_modal"
CALLBACK_CALLBACK_MODAL = "callback_modal"
CALLBACK_NOTE_MODAL = "note_modal"
CALLBACK_SNOOZE_MODAL = "snooze_modal"
MODAL_CALLBACK_IDS = frozenset(
    {
        CALLBACK_PROMISE_MODAL,
        CALLBACK_DISPUTE_MODAL,
        CALLBACK_CALLBACK_MODAL,
        CALLBACK_NOTE_MODAL,
        CALLBACK_SNOOZE_MODAL,
    }
)

# Database ids are positive BIGINTs; no sign, no leading zero, no whitespace.
_ID = r"[1-9][0-9]{0,18}"
_MAX_ID = 2**63 - 1
_ROW_RE = re.compile(rf"({_ID}):({_ID})")
_UNDO_RE = re.compile(rf"({_ID}):({_ID}):({_ID})")
_MORE_RE = re.compile(rf"([a-z_]+):({_ID}):({_ID})")
# Slack channel ids (C…, D…, G…) and message timestamps ("1700000000.000100").
_CHANNEL_RE = re.compile(r"[CDG][A-Z0-9]{2,30}")
_TS_RE = re.compile(r"[0-9]{1,12}\.[0-9]{1,8}")
_MAX_METADATA = 3000


def outcome_for_action(action_id: str) -> Outcome:
    """The outcome a one-click button records; ValueError for any other action id."""
    try:
        return OUTCOME_ACTIONS[action_id]
    except KeyError:
        raise ValueError(f"not a one-click outcome action: {action_id[:40]!r}") from None


@dataclass(frozen=True, slots=True)
class RowRef:
    """Which row of which call list a button belongs to."""

    call_list_id: int
    customer_id: int

    def __post_init__(self) -> None:
        for name in ("call_list_id", "customer_id"):
            _check_id(name, getattr(self, name))


@dataclass(frozen=True, slots=True)
class UndoRef:
    """The contact attempt an Undo button takes back, and the row it sits on."""

    row: RowRef
    attempt_id: int

    def __post_init__(self) -> None:
        _check_id("attempt_id", self.attempt_id)


def _check_id(name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= _MAX_ID:
        raise ValueError(f"{name} must be a positive integer id, not {value!r}")


def _parse_id(text: str) -> int:
    value = int(text)
    if value > _MAX_ID:
        raise ValueError("id out of range")
    return value


def _shown(value: object) -> str:
    # Never echo a long network value back into a log line or an error message.
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def encode_row(ref: RowRef) -> str:
    """Button value of a row: "<call_list_id>:<customer_id>"."""
    return f"{ref.call_list_id}:{ref.customer_id}"


def decode_row(value: object) -> RowRef:
    """The row a button value names; ValueError if it is not exactly "<id>:<id>"."""
    match = _ROW_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"malformed row value {_shown(value)}")
    try:
        return RowRef(_parse_id(match[1]), _parse_id(match[2]))
    except ValueError:
        raise ValueError(f"row value out of range {_shown(value)}") from None


def encode_undo(ref: UndoRef) -> str:
    """Undo button value: "<call_list_id>:<customer_id>:<attempt_id>"."""
    return f"{encode_row(ref.row)}:{ref.attempt_id}"


def decode_undo(value: object) -> UndoRef:
    """The attempt an Undo value names; ValueError if malformed."""
    match = _UNDO_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"malformed undo value {_shown(value)}")
    try:
        return UndoRef(RowRef(_parse_id(match[1]), _parse_id(match[2])), _parse_id(match[3]))
    except ValueError:
        raise ValueError(f"undo value out of range {_shown(value)}") from None


def encode_more(choice: str, ref: RowRef) -> str:
    """Overflow option value: "<choice>:<call_list_id>:<customer_id>"."""
    if choice not in MORE_CHOICES:
        raise ValueError(f"unknown overflow choice {choice!r}")
    return f"{choice}:{encode_row(ref)}"


def decode_more(value: object) -> tuple[str, RowRef]:
    """The overflow choice and row an option value names; ValueError if malformed or unknown."""
    match = _MORE_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f"malformed overflow value {_shown(value)}")
    if match[1] not in MORE_CHOICES:
        raise ValueError(f"unknown overflow choice {_shown(match[1])}")
    try:
        return match[1], RowRef(_parse_id(match[2]), _parse_id(match[3]))
    except ValueError:
        raise ValueError(f"overflow value out of range {_shown(value)}") from None


@dataclass(frozen=True, slots=True)
class ModalMetadata:
    """What a modal carries in private_metadata: the row, and the message to update afterwards."""

    row: RowRef
    channel_id: str | None = None
    message_ts: str | None = None

    def __post_init__(self) -> None:
        if self.channel_id is not None and not _CHANNEL_RE.fullmatch(self.channel_id):
            raise ValueError(f"not a Slack channel id: {_shown(self.channel_id)}")
        if self.message_ts is not None and not _TS_RE.fullmatch(self.message_ts):
            raise ValueError(f"not a Slack message timestamp: {_shown(self.message_ts)}")


def encode_metadata(metadata: ModalMetadata) -> str:
    """Compact JSON for a view's private_metadata."""
    payload: dict[str, Any] = {"l": metadata.row.call_list_id, "c": metadata.row.customer_id}
    if metadata.channel_id is not None:
        payload["ch"] = metadata.channel_id
    if metadata.message_ts is not None:
        payload["ts"] = metadata.message_ts
    return json.dumps(payload, separators=(",", ":"))


def decode_metadata(value: object) -> ModalMetadata:
    """The metadata a submitted view carries; ValueError if it is not what encode_metadata wrote."""
    if not isinstance(value, str) or not value or len(value) > _MAX_METADATA:
        raise ValueError("private_metadata is missing or too long")
    try:
        payload = json.loads(value)
    except json.JSONDecodeError:
        raise ValueError("private_metadata is not JSON") from None
    if not isinstance(payload, dict) or not {"l", "c"} <= payload.keys() <= {"l", "c", "ch", "ts"}:
        raise ValueError("private_metadata has the wrong keys")
    channel_id = payload.get("ch")
    message_ts = payload.get("ts")
    if channel_id is not None and not isinstance(channel_id, str):
        raise ValueError("private_metadata channel is not a string")
    if message_ts is not None and not isinstance(message_ts, str):
        raise ValueError("private_metadata timestamp is not a string")
    return ModalMetadata(RowRef(payload["l"], payload["c"]), channel_id, message_ts)
