"""The metric formulas against hand-computed tables and the published examples."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_DOWN, Decimal

from hypothesis import given
from hypothesis import strategies as st

from bot.domain.aging import Bucket
from bot.domain.metrics import (
    ActivityFacts,
    LedgerFacts,
    cei,
    compute_metrics,
    countback_dso,
    countback_months,
    dso,
    metrics_json,
)

D = Decimal


def _buckets(current: str, *past_due: str) -> dict[Bucket, Decimal]:
    values = [current, *past_due, *["0"] * (5 - len(past_due))]
    return {b: D(v) for b, v in zip(Bucket, values, strict=True)}


def test_countback_published_example() -> None:
    # AR 212,000; the last three 30-day months sold 100,000, 80,000, 70,000:
    # 30 + 30 + 32,000 / 70,000 × 30 = 73.714... days.
    periods = [(D(100_000), 30), (D(80_000), 30), (D(70_000), 30)]
    assert countback_dso(D(212_000), periods) == D("73.71")


def test_countback_month_without_sales_adds_its_days() -> None:
    # 50 of the newest month (31 days), a month with no sales (30 days), then 25/100 of 31 days.
    periods = [(D(50), 31), (D(0), 30), (D(100), 31)]
    assert countback_dso(D(75), periods) == D("68.75")


def test_countback_without_any_sales_is_none() -> None:
    assert countback_dso(D(100), [(D(0), 31)] * 24) is None
    assert countback_dso(D(0), [(D(10), 31)]) == D("0.00")


def test_countback_months_from_the_first_of_a_month() -> None:
    months = countback_months(date(2026, 3, 1), 3)
    assert months == (
        (date(2026, 3, 1), date(2026, 3, 1)),  # one day: the as-of month so far
        (date(2026, 2, 1), date(2026, 2, 28)),
        (date(2026, 1, 1), date(2026, 1, 31)),
    )


def test_cei_published_example() -> None:
    # (100,000 + 1,000,000 − 120,000) / (100,000 + 1,000,000 − 100,000) = 98%.
    assert cei(D(100_000), D(1_000_000), D(120_000), D(100_000)) == D("98.00")


def test_dso_without_sales_is_none_not_an_error() -> None:
    assert dso(D(500), D(0), 90) is None
    metrics = compute_metrics(LedgerFacts(ending=_buckets("100", "50")), ActivityFacts(),
                              period_days=90)
    assert metrics.dso is None
    assert metrics.best_possible_dso is None
    assert metrics.add is None
    assert metrics.dso_countback is None
    assert metrics.promise_kept_rate is None
    assert metrics.right_party_contact_rate is None
    assert metrics.cost_per_dollar_collected is None
    assert metrics_json(metrics)["dso"] is None


def test_hand_computed_table() -> None:
    """A 90-day period, every input chosen so each metric can be worked out by hand."""
    ledger = LedgerFacts(
        # ending AR 3,000: current 1,200; 1-30 900; 31-60 600; 61-90 300
        ending=_buckets("1200", "900", "600", "300"),
        # beginning AR 2,500: current 1,000; past due 1,500
        beginning=_buckets("1000", "1000", "500"),
        credit_sales=D("4500"),
        monthly_sales=[(D("1000"), 30), (D("1500"), 31), (D("2000"), 30)],
        cash_collected=D("4000"),
        past_due_still_open=D("600"),
        roll_from={Bucket.DAYS_1_30: D("1000"), Bucket.DAYS_31_60: D("800"),
                   Bucket.DAYS_61_90: D("0"), Bucket.DAYS_91_120: D("0")},
        roll_to={Bucket.DAYS_1_30: D("600"), Bucket.DAYS_31_60: D("300")},
    )
    activity = ActivityFacts(calls_made=400, calls_target=500, right_party_contacts=120,
                             promises_resolved=8, promises_kept_weight=D("5.5"),
                             collector_days=60)
    m = compute_metrics(ledger, activity, period_days=90, collector_day_cost=D("200"))
    assert m.dso == D("60.00")  # 3000 / 4500 × 90
    assert m.best_possible_dso == D("24.00")  # 1200 / 4500 × 90
    assert m.add == D("36.00")
    # 1000 (30 d) + 1500 (31 d) consumed, 500 / 2000 × 30 = 7.5 d
    assert m.dso_countback == D("68.50")
    # (2500 + 4500 − 3000) / (2500 + 4500 − 1200) = 4000 / 5800
    assert m.cei == D("68.97")
    assert m.percent_current == D("40.00")
    assert m.past_due_collected_pct == D("60.00")  # (1500 − 600) / 1500
    assert m.roll_rates == {Bucket.DAYS_1_30: D("60.00"), Bucket.DAYS_31_60: D("37.50"),
                            Bucket.DAYS_61_90: None, Bucket.DAYS_91_120: None}
    assert m.promise_kept_rate == D("68.75")  # 5.5 / 8
    assert m.right_party_contact_rate == D("30.00")
    assert m.cost_of_collecting == D("12000.00")  # 60 collector-days × 200
    assert m.cost_per_call == D("30.00")
    assert m.cost_per_dollar_collected == D("3.00")
    body = metrics_json(m)
    assert body["cei"] == "68.97"
    assert body["roll_rates"] == {"1-30": "60.00", "31-60": "37.50", "61-90": None,
                                  "91-120": None}


def test_without_a_configured_cost_the_cost_figures_are_null() -> None:
    m = compute_metrics(LedgerFacts(), ActivityFacts(calls_made=3, collector_days=2),
                        period_days=30)
    assert (m.cost_of_collecting, m.cost_per_call, m.cost_per_dollar_collected) == (None,) * 3


def test_team_facts_are_the_sum_of_collectors() -> None:
    a = LedgerFacts(ending=_buckets("10", "5"), credit_sales=D(30),
                    monthly_sales=[(D(10), 31), (D(20), 30)])
    b = LedgerFacts(ending=_buckets("1", "0", "7"), credit_sales=D(3), monthly_sales=[(D(3), 31)])
    team = a.plus(b)
    assert sum(team.ending.values()) == D(23)
    assert team.monthly_sales == [(D(13), 31), (D(20), 30)]
    assert team.credit_sales == D(33)


money = st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False,
                    allow_infinity=False)


@given(beginning=money, sales=money, remaining_pct=st.integers(0, 100),
       current_pct=st.integers(0, 100))
def test_cei_within_0_100_for_non_negative_inputs(beginning: Decimal, sales: Decimal,
                                                 remaining_pct: int, current_pct: int) -> None:
    # On a ledger, ending AR is at most beginning AR plus sales (balances never grow), and
    # ending current AR is part of ending AR.
    ending = ((beginning + sales) * remaining_pct / 100).quantize(D("0.01"), ROUND_DOWN)
    current = (ending * current_pct / 100).quantize(D("0.01"), ROUND_DOWN)
    value = cei(beginning, sales, ending, current)
    assert value is None or D(0) <= value <= D(100)
