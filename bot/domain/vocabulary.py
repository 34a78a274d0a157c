"""The product's vocabulary as enums; the database stores their values."""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    COLLECTOR = "collector"
    MANAGER = "manager"
    HEAD = "head"  # heads the collections department: where escalations go last
    ADMIN = "admin"


class CustomerStatus(enum.StrEnum):
    ACTIVE = "active"
    ON_HOLD = "on_hold"
    AGENCY = "agency"
    LEGAL = "legal"
    CLOSED = "closed"


class InvoiceStatus(enum.StrEnum):
    OPEN = "open"
    PAID = "paid"
    VOID = "void"


class Outcome(enum.StrEnum):
    REACHED = "reached"
    LEFT_VOICEMAIL = "left_voicemail"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    PROMISE_TO_PAY = "promise_to_pay"
    PAID = "paid"
    DISPUTE = "dispute"
    CALLBACK_REQUESTED = "callback_requested"
    REFUSED = "refused"
    NOTE = "note"


class PromiseStatus(enum.StrEnum):
    OPEN = "open"
    KEPT = "kept"
    PARTIALLY_KEPT = "partially_kept"
    BROKEN = "broken"
    CANCELLED = "cancelled"


class DisputeStatus(enum.StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class EscalationLevel(enum.StrEnum):
    MANAGER = "manager"
    AGENCY = "agency"
    LEGAL = "legal"


class EscalateAbove(enum.StrEnum):
    """Who an escalation nobody decided goes to next (COLLECTBOT_ESCALATION_ABOVE)."""

    MANAGER = "manager"  # the holder's manager on the roster, else a head
    HEAD = "head"  # a head straight away


class EscalationStatus(enum.StrEnum):
    OPEN = "open"
    DECIDED = "decided"  # a manager decided
    CLOSED = "closed"  # closed by itself: its causes are gone


class DeliveryStatus(enum.StrEnum):
    """Where a delivery stands: queued, being sent, waiting to retry, or done one way or another."""

    PENDING = "pending"
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


OUTCOME_LABELS: dict[Outcome, str] = {
    Outcome.REACHED: "Reached",
    Outcome.LEFT_VOICEMAIL: "Left voicemail",
    Outcome.NO_ANSWER: "No answer",
    Outcome.WRONG_NUMBER: "Wrong number",
    Outcome.PROMISE_TO_PAY: "Promise to pay",
    Outcome.PAID: "Paid",
    Outcome.DISPUTE: "Dispute",
    Outcome.CALLBACK_REQUESTED: "Callback requested",
    Outcome.REFUSED: "Refused",
    Outcome.NOTE: "Note",
}

# A conversation with the right party happened (right-party-contact rate counts these).
RIGHT_PARTY_OUTCOMES = frozenset(
    {
        Outcome.REACHED,
        Outcome.PROMISE_TO_PAY,
        Outcome.PAID,
        Outcome.DISPUTE,
        Outcome.CALLBACK_REQUESTED,
        Outcome.REFUSED,
    }
)
# Outcomes that count as a call made (a note is not a call).
CALL_OUTCOMES = frozenset(Outcome) - {Outcome.NOTE}
