"""Plain data about one account: as the priority rules see it, as lists and summaries show it."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from bot.domain.aging import Bucket
from bot.domain.vocabulary import CustomerStatus, Outcome, PromiseStatus


@dataclass(frozen=True, slots=True)
class PromiseState:
    """A promise to pay as priority needs it."""

    amount: Decimal
    promised_date: date
    broken_on: date | None = None  # set when the promise was marked broken


@dataclass(frozen=True, slots=True)
class AccountState:
    """Everything the priority rules need to know about one customer, loaded in bulk."""

    customer_id: int
    external_ref: str
    name: str
    tier: str
    status: CustomerStatus
    collector_id: int | None
    past_due: Decimal  # open past-due balance on invoices not in dispute
    oldest_due: date | None  # due date of the oldest past-due invoice not in dispute
    # Open balance on disputed invoices, when known. It only says why an account with nothing
    # else past due is left off, so a loader that never loads such accounts leaves it None.
    disputed: Decimal | None = None
    contact_name: str | None = None
    phone: str | None = None
    last_attempt_at: datetime | None = None
    last_outcome: Outcome | None = None
    # Attempts since the last payment or kept promise (what escalation counts).
    attempts: int = 0
    open_promise: PromiseState | None = None
    broken_promise: PromiseState | None = None  # the latest broken one not yet followed up
    callback_at: datetime | None = None  # a callback the customer asked for
    snoozed_until: date | None = None


@dataclass(frozen=True, slots=True)
class CallListItem:
    """One line of a collector's morning list, in order."""

    position: int
    customer_id: int
    external_ref: str
    name: str
    past_due: Decimal
    days_past_due: int
    score: Decimal
    reason: str
    contact_name: str | None = None
    phone: str | None = None
    last_outcome: Outcome | None = None
    last_attempt_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AccountMatch:
    """One account found by a search."""

    customer_id: int
    external_ref: str
    name: str
    collector_name: str | None
    status: CustomerStatus


@dataclass(frozen=True, slots=True)
class AttemptLine:
    """One past contact attempt as a summary lists it."""

    attempt_id: int
    at: datetime
    outcome: Outcome
    collector_name: str
    source: str
    note: str | None


@dataclass(frozen=True, slots=True)
class PromiseLine:
    """An open (or partially kept) promise to pay."""

    promise_id: int
    amount: Decimal
    promised_date: date
    status: PromiseStatus
    amount_received: Decimal


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Balance, aging, open promises and the last attempts of one account."""

    customer_id: int
    external_ref: str
    name: str
    status: CustomerStatus
    collector_name: str | None
    contact_name: str | None
    phone: str | None
    open_balance: Decimal
    past_due: Decimal
    disputed: Decimal
    days_past_due: int  # of the oldest past-due invoice not in dispute
    snoozed_until: date | None
    unapplied_credit: Decimal = Decimal("0.00")  # payments received that no invoice took
    aging: dict[Bucket, Decimal] = field(default_factory=dict)
    open_promises: list[PromiseLine] = field(default_factory=list)
    recent_attempts: list[AttemptLine] = field(default_factory=list)
