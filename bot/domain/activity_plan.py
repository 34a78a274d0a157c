"""How many calls a day an objective needs.

    calls a day = money the target needs collected ÷ cash one call brings in ÷ working days left

- *Money needed* comes from the metric's formula with sales at their recent daily average
  (the period's credit sales ÷ N): for DSO, AR must fall to target × daily sales; for ADD,
  past-due AR to target × daily sales; for CEI, ending AR to B + S − target × (B + S − current);
  for % current, past-due AR to current × (100 − target) ÷ target; for % past due collected and
  cash collected, what the target says minus what is in already. Other metrics (promises kept,
  right-party contacts, spend) are not moved by more calls: no plan.
- *Cash per call* is learned per aging bucket from the team's history: what the account paid in
  the 30 days after a call, by the account's bucket (its oldest open invoice) on the call's day.
  A bucket with fewer than MIN_HISTORY calls uses the default: the likelihood of payment after a
  contact (`bot.domain.likelihood`) × the bucket's average past-due balance per account ×
  DEFAULT_PAID_SHARE. The team's figure is the buckets' average weighted by past-due AR.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from bot.domain.aging import BUCKETS, Bucket
from bot.domain.likelihood import DEFAULT_LIKELIHOOD
from bot.domain.metrics import ZERO, LedgerFacts, round2

MIN_HISTORY = 30
DEFAULT_PAID_SHARE = Decimal("0.5")
PAST_DUE = tuple(b for b in BUCKETS if b is not Bucket.CURRENT)


@dataclass(frozen=True, slots=True)
class CashPerCall:
    """Cash one call brings in, per past-due bucket, and which buckets were learned."""

    by_bucket: Mapping[Bucket, Decimal]
    learned: frozenset[Bucket]

    def blended(self, past_due: Mapping[Bucket, Decimal]) -> Decimal:
        """The average over buckets weighted by past-due AR (simple average without any)."""
        total = sum((past_due.get(b, ZERO) for b in PAST_DUE), ZERO)
        if not total:
            return round2(sum((self.by_bucket[b] for b in PAST_DUE), ZERO) / len(PAST_DUE))
        return round2(sum((self.by_bucket[b] * past_due.get(b, ZERO) for b in PAST_DUE), ZERO)
                      / total)


def default_cash_per_call(past_due: Mapping[Bucket, Decimal],
                          accounts: Mapping[Bucket, int]) -> dict[Bucket, Decimal]:
    """The documented default per bucket: likelihood × average balance × paid share."""
    out: dict[Bucket, Decimal] = {}
    for bucket in PAST_DUE:
        count = accounts.get(bucket, 0)
        average = past_due.get(bucket, ZERO) / count if count else ZERO
        out[bucket] = round2(DEFAULT_LIKELIHOOD[bucket] * average * DEFAULT_PAID_SHARE)
    return out


def learn_cash_per_call(observations: Iterable[tuple[Bucket, Decimal]],
                        defaults: Mapping[Bucket, Decimal],
                        min_history: int = MIN_HISTORY) -> CashPerCall:
    """Per bucket with at least `min_history` calls (bucket at the call, paid within 30 days
    after it), the average paid per call; the default elsewhere."""
    calls: dict[Bucket, int] = defaultdict(int)
    paid: dict[Bucket, Decimal] = defaultdict(lambda: ZERO)
    for bucket, amount in observations:
        if bucket is Bucket.CURRENT:
            continue
        calls[bucket] += 1
        paid[bucket] += amount
    by_bucket = dict(defaults)
    learned = set()
    for bucket in PAST_DUE:
        if calls[bucket] >= min_history:
            by_bucket[bucket] = round2(paid[bucket] / calls[bucket])
            learned.add(bucket)
    return CashPerCall(by_bucket=by_bucket, learned=frozenset(learned))


def money_needed(metric: str, target: Decimal, facts: LedgerFacts, period_days: int,
                 *, collected_so_far: Decimal = ZERO) -> Decimal | None:
    """What must still be collected for the metric to reach the target (never negative);
    None for metrics calls do not move."""
    ending = sum(facts.ending.values(), ZERO)
    current = facts.ending.get(Bucket.CURRENT, ZERO)
    past_due = ending - current
    daily_sales = facts.credit_sales / period_days
    beginning = sum(facts.beginning.values(), ZERO)
    needed: Decimal
    if metric in {"dso", "dso_countback"}:
        needed = ending - target * daily_sales
    elif metric == "add":
        needed = past_due - target * daily_sales
    elif metric == "cei":
        collectible = beginning + facts.credit_sales
        needed = ending - (collectible - target / 100 * (collectible - current))
    elif metric == "percent_current":
        if target <= 0:
            return ZERO
        needed = past_due - current * (100 - target) / target
    elif metric == "past_due_collected_pct":
        start = beginning - facts.beginning.get(Bucket.CURRENT, ZERO)
        needed = start * target / 100 - (start - facts.past_due_still_open)
    elif metric == "cash_collected":
        needed = target - collected_so_far
    else:
        return None
    return round2(max(needed, ZERO))


def calls_per_day(needed: Decimal | None, cash_per_call: Decimal,
                  working_days_left: int) -> int | None:
    """Calls a day, rounded up; None when there is no plan (no metric link, no days left, or
    calls that bring nothing)."""
    if needed is None or working_days_left <= 0 or cash_per_call <= 0:
        return None
    return math.ceil(needed / cash_per_call / working_days_left)
