"""When a promise to pay is kept, partially kept or broken, from the payments received.

The rule: payments count toward a promise when they were received on or after the day the
promise was made and on or before its promised date plus a grace period (0 days by default).
A promise is KEPT once they total at least its amount, PARTIALLY_KEPT when something but less
arrived, BROKEN when the promised date plus grace has passed with nothing received, and OPEN
before that.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.calendar import local_date
from bot.domain.vocabulary import PromiseStatus

ZERO = Decimal("0.00")
GRACE_DAYS = 0


@dataclass(frozen=True, slots=True)
class PromiseTerms:
    """What a customer promised: how much, made on which day, by which day."""

    amount: Decimal
    made_on: date
    promised_date: date

    @classmethod
    def made_at(
        cls, amount: Decimal, created_at: datetime, promised_date: date, zone: ZoneInfo
    ) -> PromiseTerms:
        """Terms of a promise recorded at `created_at` (the recording call's injected now):
        made on the collector's local date then, in `zone` (their zone by the one resolver).
        The importer and the promises job both read a promise this way, so they agree."""
        return cls(amount, local_date(created_at, zone), promised_date)


def last_counted_day(promise: PromiseTerms, grace_days: int = GRACE_DAYS) -> date:
    """The last day a payment still counts toward the promise."""
    return promise.promised_date + timedelta(days=grace_days)


def received_toward(
    promise: PromiseTerms,
    payments: Iterable[tuple[date, Decimal]],
    grace_days: int = GRACE_DAYS,
) -> Decimal:
    """Total of the (paid_on, amount) payments that fall in the promise's window."""
    last = last_counted_day(promise, grace_days)
    return sum(
        (amount for paid_on, amount in payments if promise.made_on <= paid_on <= last), ZERO
    )


def promise_status(
    promise: PromiseTerms, received: Decimal, today: date, grace_days: int = GRACE_DAYS
) -> PromiseStatus:
    """KEPT, PARTIALLY_KEPT, BROKEN or OPEN for `received` counted by `received_toward`."""
    if received >= promise.amount:
        return PromiseStatus.KEPT
    if received > ZERO:
        return PromiseStatus.PARTIALLY_KEPT
    if today > last_counted_day(promise, grace_days):
        return PromiseStatus.BROKEN
    return PromiseStatus.OPEN


def is_broken(
    promise: PromiseTerms, received: Decimal, today: date, grace_days: int = GRACE_DAYS
) -> bool:
    """The promised date plus grace has passed and nothing toward it was received."""
    return promise_status(promise, received, today, grace_days) is PromiseStatus.BROKEN
