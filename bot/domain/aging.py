"""Aging: days past due and the six buckets the team reports on."""

from __future__ import annotations

import enum
from datetime import date


class Bucket(enum.StrEnum):
    CURRENT = "current"
    DAYS_1_30 = "1-30"
    DAYS_31_60 = "31-60"
    DAYS_61_90 = "61-90"
    DAYS_91_120 = "91-120"
    DAYS_120_PLUS = "120+"

    @property
    def label(self) -> str:
        return "Current" if self is Bucket.CURRENT else f"{self.value} days"


BUCKETS: tuple[Bucket, ...] = tuple(Bucket)


def days_past_due(due_date: date, as_of: date) -> int:
    """Whole days after the due date; 0 on or before it (an invoice is due on its due date)."""
    return max((as_of - due_date).days, 0)


def bucket_for_days(days: int) -> Bucket:
    """The aging bucket for a number of days past due."""
    if days <= 0:
        return Bucket.CURRENT
    if days <= 30:
        return Bucket.DAYS_1_30
    if days <= 60:
        return Bucket.DAYS_31_60
    if days <= 90:
        return Bucket.DAYS_61_90
    if days <= 120:
        return Bucket.DAYS_91_120
    return Bucket.DAYS_120_PLUS


def bucket_for(due_date: date, as_of: date) -> Bucket:
    return bucket_for_days(days_past_due(due_date, as_of))
