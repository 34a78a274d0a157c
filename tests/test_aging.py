"""Aging buckets at every boundary."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.aging import Bucket, bucket_for, bucket_for_days, days_past_due


@pytest.mark.parametrize(
    ("days", "bucket"),
    [(-5, Bucket.CURRENT), (0, Bucket.CURRENT), (1, Bucket.DAYS_1_30), (30, Bucket.DAYS_1_30),
     (31, Bucket.DAYS_31_60), (60, Bucket.DAYS_31_60), (61, Bucket.DAYS_61_90),
     (90, Bucket.DAYS_61_90), (91, Bucket.DAYS_91_120), (120, Bucket.DAYS_91_120),
     (121, Bucket.DAYS_120_PLUS), (5000, Bucket.DAYS_120_PLUS)],
)
def test_bucket_boundaries(days: int, bucket: Bucket) -> None:
    assert bucket_for_days(days) is bucket


def test_days_past_due_counts_from_the_day_after_due() -> None:
    assert days_past_due(date(2026, 3, 31), date(2026, 3, 31)) == 0
    assert days_past_due(date(2026, 3, 31), date(2026, 4, 1)) == 1
    assert days_past_due(date(2026, 4, 1), date(2026, 3, 31)) == 0
    assert bucket_for(date(2026, 3, 31), date(2026, 6, 30)) is Bucket.DAYS_91_120
