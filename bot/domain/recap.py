"""The weekly recap as plain data: what the Monday post, the terminal and the chart all show.

A service fills it from the metrics, the daily history, the objectives and the assessment; the
views (`bot/views/recap.py`, `bot/views/recap_chart.py`) only render it, so every number shown
is one of these fields.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

from bot.domain.aging import Bucket
from bot.domain.assessment import DiffInDiff, EffortRow, GapRow, HoldoutComparison
from bot.domain.objectives import ObjectiveProgress

Unit = Literal["days", "percent", "money", "ratio"]
_ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Kpi:
    """A headline figure this week and last week."""

    key: str  # the metrics key: dso, cei, percent_current, past_due_ar, cash_collected, ...
    label: str
    unit: Unit
    value: Decimal | None
    previous: Decimal | None
    lower_is_better: bool = False

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def improved(self) -> bool | None:
        change = self.change
        if change is None or change == _ZERO:
            return None
        return (change < _ZERO) == self.lower_is_better


@dataclass(frozen=True, slots=True)
class CallsPlan:
    """Calls made last week against the collectors' targets and what the objectives need."""

    made: int
    planned: int
    needed_per_day: int | None = None  # from the activity plan; None without an objective
    planned_per_day: int | None = None


@dataclass(frozen=True, slots=True)
class WeekPoint:
    """One week of the trend: DSO at its end and AR by aging bucket."""

    week_ending: date
    dso: Decimal | None
    aging: Mapping[Bucket, Decimal] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"{self.week_ending:%b} {self.week_ending.day}"


@dataclass(frozen=True, slots=True)
class CollectorWeek:
    """One collector's week."""

    name: str
    slack_id: str | None
    calls: int
    calls_target: int
    right_party_contacts: int
    promises_made: int
    promises_kept: int
    promises_broken: int
    cash_collected: Decimal
    cash_target: Decimal | None = None


@dataclass(frozen=True, slots=True)
class EscalationWeek:
    """Escalations opened and closed during the week, and open at its end."""

    opened: int
    closed: int
    open_now: int


@dataclass(frozen=True, slots=True)
class StrategyAssessment:
    """What the recap says about one strategy."""

    name: str
    changed_on: date | None  # the policy version that introduced its current rules
    outcome: str  # what is measured, in words
    did: DiffInDiff | None = None  # None: not enough time since the change yet
    roll: DiffInDiff | None = None  # the same for the share of balance that rolled a bucket on
    holdout: HoldoutComparison | None = None  # None: the segment declares no holdout
    holdout_share: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Recap:
    """Everything one week's recap shows."""

    week_start: date
    week_end: date  # the as-of date (inclusive)
    objectives: tuple[ObjectiveProgress, ...]
    kpis: tuple[Kpi, ...]
    calls: CallsPlan
    trend: tuple[WeekPoint, ...]  # oldest first, up to 12 weeks ending with this one
    dso_target: Decimal | None
    collectors: tuple[CollectorWeek, ...] = ()
    escalations: EscalationWeek | None = None
    strategies: tuple[StrategyAssessment, ...] = ()
    effort: tuple[EffortRow, ...] = ()
    gaps: tuple[GapRow, ...] = ()
    post_link: str | None = None  # the permalink of the posted message, once posted

