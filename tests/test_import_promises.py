"""The promise-to-pay rule: kept, partially kept, broken, open from payments in its window."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from bot.domain.promises import PromiseTerms, is_broken, promise_status, received_toward
from bot.domain.vocabulary import PromiseStatus

D = Decimal
PROMISE = PromiseTerms(amount=D("500.00"), made_on=date(2026, 3, 2), promised_date=date(2026, 3, 9))


def test_only_payments_in_the_window_count() -> None:
    payments = [
        (date(2026, 3, 1), D("900")),  # before the promise was made
        (date(2026, 3, 2), D("100")),  # the day it was made
        (date(2026, 3, 9), D("150")),  # the promised day
        (date(2026, 3, 10), D("900")),  # a day late, no grace
    ]
    assert received_toward(PROMISE, payments) == D("250")
    assert received_toward(PROMISE, payments, grace_days=1) == D("1150")


def test_status_from_received() -> None:
    before, after = date(2026, 3, 5), date(2026, 3, 10)
    assert promise_status(PROMISE, D("500"), before) is PromiseStatus.KEPT
    assert promise_status(PROMISE, D("650"), after) is PromiseStatus.KEPT
    assert promise_status(PROMISE, D("499.99"), before) is PromiseStatus.PARTIALLY_KEPT
    assert promise_status(PROMISE, D("10"), after) is PromiseStatus.PARTIALLY_KEPT
    assert promise_status(PROMISE, D("0"), before) is PromiseStatus.OPEN
    assert promise_status(PROMISE, D("0"), date(2026, 3, 9)) is PromiseStatus.OPEN
    assert promise_status(PROMISE, D("0"), after) is PromiseStatus.BROKEN


def test_is_broken_after_the_date_with_nothing_received() -> None:
    assert is_broken(PROMISE, D("0"), date(2026, 3, 10))
    assert not is_broken(PROMISE, D("0"), date(2026, 3, 9))
    assert not is_broken(PROMISE, D("0"), date(2026, 3, 10), grace_days=2)
    assert not is_broken(PROMISE, D("100"), date(2026, 3, 10))
    assert not is_broken(PROMISE, D("500"), date(2026, 4, 1))
