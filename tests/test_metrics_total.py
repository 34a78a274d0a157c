"""`LedgerFacts.total` (the team's facts in one pass) equals folding `plus` over the parts."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.aging import Bucket
from bot.domain.metrics import LedgerFacts


def _facts(n: int, months: int) -> LedgerFacts:
    d = Decimal(n)
    return LedgerFacts(
        ending={Bucket.CURRENT: d, Bucket.DAYS_31_60: d / 4},
        beginning={Bucket.DAYS_120_PLUS: d * 2},
        credit_sales=d * 3,
        monthly_sales=[(d + k, 28 + k % 4) for k in range(months)],
        cash_collected=d / 2,
        past_due_still_open=d / 5,
        roll_from={Bucket.DAYS_1_30: d},
        roll_to={Bucket.DAYS_1_30: d / 10, Bucket.DAYS_61_90: d},
    )


def test_total_equals_folded_plus() -> None:
    parts = [_facts(n, months) for n, months in ((101, 24), (7, 3), (55, 0), (3, 24))]
    folded = LedgerFacts()
    for part in parts:
        folded = folded.plus(part)
    assert LedgerFacts.total(iter(parts)) == folded
    assert LedgerFacts.total([]) == LedgerFacts(monthly_sales=[])
