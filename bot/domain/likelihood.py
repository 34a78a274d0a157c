"""How likely a contact is to bring a payment, by aging bucket: default, then learned.

The default curve is the chance that a past-due account pays something within 30 days of a
contact. It falls with age because the older a debt, the less a call moves it: commonly quoted
industry figures put the chance of ever collecting at roughly 70% after 90 days and about half
after six months, and the chance that one call brings money within a month is lower and falls
faster. The default keeps that shape in round numbers a team can argue with:

    current 0.70 · 1-30 0.60 · 31-60 0.45 · 61-90 0.30 · 91-120 0.20 · 120+ 0.10

(current accounts are not called; the value is there so a curve covers every bucket). A policy can
override any bucket; once a bucket has `min_history` observations of the team's own outcomes, the
learned rate replaces it for that bucket.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from bot.domain.aging import BUCKETS, Bucket, bucket_for_days

PROBABILITY = Decimal("0.0001")

DEFAULT_LIKELIHOOD: Mapping[Bucket, Decimal] = {
    Bucket.CURRENT: Decimal("0.70"),
    Bucket.DAYS_1_30: Decimal("0.60"),
    Bucket.DAYS_31_60: Decimal("0.45"),
    Bucket.DAYS_61_90: Decimal("0.30"),
    Bucket.DAYS_91_120: Decimal("0.20"),
    Bucket.DAYS_120_PLUS: Decimal("0.10"),
}

# Pseudo-observations of the prior kept in a learned rate: enough that a bucket where nobody has
# paid yet still scores above zero (and one where everybody paid stays below one), too few to
# hold back what the team's history says once it has `min_history` outcomes.
PRIOR_WEIGHT = 2


@dataclass(frozen=True, slots=True)
class LikelihoodCurve:
    """Probability of payment after a contact, per aging bucket, and where each figure came from."""

    by_bucket: Mapping[Bucket, Decimal]
    observations: Mapping[Bucket, int] = field(default_factory=dict)
    learned: frozenset[Bucket] = frozenset()

    def for_bucket(self, bucket: Bucket) -> Decimal:
        return self.by_bucket[bucket]

    def for_days(self, days_past_due: int) -> Decimal:
        return self.by_bucket[bucket_for_days(days_past_due)]


def default_curve(overrides: Mapping[Bucket, Decimal] | None = None) -> LikelihoodCurve:
    """The documented default curve, with a policy's per-bucket overrides applied."""
    by_bucket = dict(DEFAULT_LIKELIHOOD)
    for bucket, probability in (overrides or {}).items():
        if not Decimal(0) < probability <= Decimal(1):
            raise ValueError(f"likelihood for {bucket.value} must be in (0, 1], got {probability}")
        by_bucket[bucket] = probability
    return LikelihoodCurve(by_bucket=by_bucket)


def learn_curve(
    observations: Iterable[tuple[int, bool]],
    min_history: int,
    *,
    prior: LikelihoodCurve | None = None,
) -> LikelihoodCurve:
    """Per bucket with >= min_history (days past due at contact, paid within 30 days) outcomes,
    the observed payment rate (lightly smoothed toward the prior) replaces the prior."""
    if min_history < 1:
        raise ValueError(f"min_history must be at least 1, got {min_history}")
    base = prior or default_curve()
    counts = dict.fromkeys(BUCKETS, 0)
    paid = dict.fromkeys(BUCKETS, 0)
    for days, was_paid in observations:
        bucket = bucket_for_days(days)
        counts[bucket] += 1
        if was_paid:
            paid[bucket] += 1
    by_bucket = dict(base.by_bucket)
    learned: set[Bucket] = set()
    for bucket in BUCKETS:
        n = counts[bucket]
        if n < min_history:
            continue
        rate = (paid[bucket] + PRIOR_WEIGHT * base.by_bucket[bucket]) / (n + PRIOR_WEIGHT)
        by_bucket[bucket] = max(rate.quantize(PROBABILITY), PROBABILITY)
        learned.add(bucket)
    return LikelihoodCurve(by_bucket=by_bucket, observations=counts, learned=frozenset(learned))
