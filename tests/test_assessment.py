"""The assessment's statistics on hand-made data, each worked out by hand in the test."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal

import pytest

from bot.domain.aging import Bucket
from bot.domain.assessment import (
    FIRST_CONTACT,
    MIN_ARM,
    AccountOutcome,
    Ratio,
    Window,
    balance_band,
    compare_holdout,
    did_windows,
    difference_in_differences,
    effort_against_yield,
    gap_band,
    payment_rate_by_gap,
)

D = Decimal


def test_difference_in_differences_by_hand() -> None:
    # Segment: 20% of past-due collected before (200 of 1,000), 30% after (450 of 1,500): +10.
    # Rest:    25% before (500 of 2,000), 30% after (780 of 2,600): +5.  DiD = +5 points.
    outcomes = [
        AccountOutcome(True, False, D(150), D(600)), AccountOutcome(True, False, D(50), D(400)),
        AccountOutcome(True, True, D(450), D(1500)),
        AccountOutcome(False, False, D(500), D(2000)),
        AccountOutcome(False, True, D(700), D(2000)), AccountOutcome(False, True, D(80), D(600)),
    ]
    did = difference_in_differences(outcomes)
    assert did.segment_before == Ratio(D(200), D(1000), 2)
    assert did.segment_change == D(10)
    assert did.rest_change == D(5)
    assert did.estimate == D(5)


def test_difference_in_differences_without_a_group_is_none() -> None:
    did = difference_in_differences([AccountOutcome(True, True, D(1), D(2))])
    assert did.segment_change is None and did.estimate is None


def test_equal_windows_around_a_change() -> None:
    changed = date(2026, 9, 1)
    # As of Nov 30: outcomes are known for days up to Oct 31, so 61 days after the change.
    before, after = did_windows(changed, date(2026, 11, 30)) or pytest.fail("no windows")
    assert after == Window(date(2026, 9, 1), date(2026, 10, 31))
    assert before == Window(date(2026, 7, 2), date(2026, 8, 31))
    assert before.days == after.days == 61
    assert date(2026, 8, 31) in before and date(2026, 9, 1) not in before
    # Long after: capped at 12 weeks each side.
    before, after = did_windows(changed, date(2027, 6, 1)) or pytest.fail("no windows")
    assert before.days == after.days == 84
    # Too soon: nothing known yet.
    assert did_windows(changed, date(2026, 9, 30)) is None
    assert did_windows(changed, date(2026, 10, 1)) is not None


def test_confidence_interval_against_a_hand_computation() -> None:
    treated = [D(1)] * 15 + [D(0)] * 15  # mean 0.5, variance 7.5/29
    held_out = [D(1)] * 6 + [D(0)] * 24  # mean 0.2, variance (6*.64 + 24*.04)/29 = 4.8/29
    comparison = compare_holdout(treated, held_out)
    assert comparison.enough
    assert comparison.difference == D(30)
    se = math.sqrt(7.5 / 29 / 30 + 4.8 / 29 / 30) * 100  # 11.8903 points
    low, high = comparison.interval or pytest.fail("no interval")
    assert float(low) == pytest.approx(30 - 1.96 * se, abs=1e-9)
    assert float(high) == pytest.approx(30 + 1.96 * se, abs=1e-9)
    assert f"{low:.2f} {high:.2f}" == "6.70 53.30"
    assert comparison.summary("paid within 30 days") == (
        "paid within 30 days: treated 50.0%, held out 20.0%, difference +30.0 pts "
        "(95% CI +6.7 pts to +53.3 pts; n = 30 treated, 30 held out) — better"
    )


def test_an_interval_across_zero_is_no_clear_difference() -> None:
    comparison = compare_holdout([D(1)] * 16 + [D(0)] * 14, [D(1)] * 15 + [D(0)] * 15)
    assert comparison.summary("paid").endswith("— no clear difference")


def test_small_sample_says_not_enough_data_yet() -> None:
    comparison = compare_holdout([D(1)] * 40, [D(0)] * (MIN_ARM - 1))
    assert not comparison.enough
    assert comparison.difference is None and comparison.interval is None
    assert comparison.summary("paid") == (
        "not enough data yet (n = 40 treated, 29 held out; 30 each needed)"
    )
    assert compare_holdout([], []).summary("paid").startswith("not enough data yet (n = 0 ")


@pytest.mark.parametrize(("amount", "band"), [
    ("0.01", "under $1k"), ("999.99", "under $1k"), ("1000", "$1k-$10k"),
    ("49999.99", "$10k-$50k"), ("50000", "$50k+"),
])
def test_balance_bands(amount: str, band: str) -> None:
    assert balance_band(D(amount)) == band


@pytest.mark.parametrize(("days", "band"), [
    (None, FIRST_CONTACT), (0, "1-3 days"), (3, "1-3 days"), (4, "4-7 days"), (14, "8-14 days"),
    (30, "15-30 days"), (31, "31+ days"), (400, "31+ days"),
])
def test_gap_bands(days: int | None, band: str) -> None:
    assert gap_band(days) == band


def test_effort_against_yield_by_hand() -> None:
    calls = {(Bucket.DAYS_1_30, "under $1k"): 60, (Bucket.DAYS_61_90, "$10k-$50k"): 40}
    cash = {(Bucket.DAYS_1_30, "under $1k"): D(2000), (Bucket.DAYS_61_90, "$10k-$50k"): D(6000),
            (Bucket.DAYS_61_90, "$50k+"): D(2000)}
    rows = effort_against_yield(calls, cash)
    assert [(r.label, r.calls, r.call_share, r.cash_share) for r in rows] == [
        ("1-30 days, under $1k", 60, D(60), D(20)),
        ("61-90 days, $10k-$50k", 40, D(40), D(60)),
        ("61-90 days, $50k+", 0, D(0), D(20)),
    ]
    assert rows[0].yield_ratio == D(20) / D(60)
    assert rows[2].yield_ratio is None


def test_payment_rate_by_days_since_previous_contact() -> None:
    rows = payment_rate_by_gap([(None, True), (2, False), (3, True), (10, True), (10, False),
                                (10, False), (45, False)])
    assert [(r.band, r.contacts, r.paid) for r in rows] == [
        ("1-3 days", 2, 1), ("8-14 days", 3, 1), ("31+ days", 1, 0), (FIRST_CONTACT, 1, 1),
    ]
    assert rows[0].rate == D(50)
    assert rows[2].rate == D(0)
