"""Objectives: which metrics can be one, their targets, and progress from baseline to target."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Literal

from bot.domain.metrics import round2

Status = Literal["on track", "behind", "not started", "met", "missed"]


@dataclass(frozen=True, slots=True)
class MetricSpec:
    """How a metric behaves as an objective."""

    label: str
    lower_is_better: bool
    # stock: the metric's value as of a date (90-day window); flow: summed from the objective's
    # start (cash collected; cost of collecting, whose target is a spend cap).
    kind: Literal["stock", "flow"] = "stock"
    unit: Literal["days", "pct", "money"] = "pct"


OBJECTIVE_METRICS: dict[str, MetricSpec] = {
    "dso": MetricSpec("DSO", True, unit="days"),
    "dso_countback": MetricSpec("Countback DSO", True, unit="days"),
    "add": MetricSpec("Average days delinquent", True, unit="days"),
    "cei": MetricSpec("CEI", False),
    "percent_current": MetricSpec("AR current", False),
    "past_due_collected_pct": MetricSpec("Past-due AR collected", False),
    "promise_kept_rate": MetricSpec("Promises kept", False),
    "right_party_contact_rate": MetricSpec("Right-party contacts", False),
    "cash_collected": MetricSpec("Cash collected", False, kind="flow", unit="money"),
    "cost_of_collecting": MetricSpec("Spend on collecting", True, kind="flow", unit="money"),
}

@dataclass(frozen=True, slots=True)
class ActivityPlan:
    """Calls a day the objective needs, beside those planned and made."""

    money_needed: Decimal | None
    cash_per_call: Decimal
    learned: bool
    working_days_left: int
    needed: int | None
    planned: int
    made: Decimal


@dataclass(frozen=True, slots=True)
class ObjectiveProgress:
    objective_id: int
    name: str
    metric: str
    start: date
    end: date
    goals: str | None
    baseline: Decimal | None
    now: Decimal | None
    target: Decimal | None
    projected: Decimal | None
    fraction: Decimal | None
    status: Status
    plan: ActivityPlan
    closed: bool


_TARGET = re.compile(r"^\s*(?P<sign>[+-]?)\s*\$?\s*(?P<number>[0-9][0-9,]*(?:\.[0-9]+)?)\s*"
                     r"(?P<pct>%?)\s*$")


@dataclass(frozen=True, slots=True)
class Target:
    """An absolute target, or a change from the baseline in percent."""

    absolute: Decimal | None = None
    change_pct: Decimal | None = None

    def resolve(self, baseline: Decimal | None) -> Decimal | None:
        """The target value (None while a relative target waits for its baseline)."""
        if self.absolute is not None:
            return self.absolute
        if baseline is None or self.change_pct is None:
            return None
        return round2(baseline * (1 + self.change_pct / 100))


def parse_target(text: str, metric: str) -> Target:
    """'-5%' (a change from the baseline), '45' or '$250,000' (absolute); ValueError says why."""
    spec = OBJECTIVE_METRICS.get(metric)
    if spec is None:
        raise ValueError(f"unknown metric {metric!r} (one of: {', '.join(OBJECTIVE_METRICS)})")
    match = _TARGET.match(text)
    if not match:
        raise ValueError(f"not a target: {text!r} (e.g. -5% for a change, or 45 for a value)")
    try:
        number = Decimal(match["number"].replace(",", ""))
    except InvalidOperation:
        raise ValueError(f"not a number: {text!r}") from None
    if match["pct"] and match["sign"]:
        if spec.kind == "flow":
            raise ValueError(f"{metric} is summed from the start date: give an amount, "
                             f"e.g. --target 250000")
        change = -number if match["sign"] == "-" else number
        if change <= -100:
            raise ValueError(f"a change of {change}% leaves nothing: use more than -100%")
        return Target(change_pct=change)
    if match["sign"] == "-":
        raise ValueError(f"a target value cannot be negative: {text!r}")
    return Target(absolute=number)


MAX_GOALS = 10
GOAL_CHARS = 150


def check_goals(text: str) -> str:
    """Goals as short lines (blank lines dropped); ValueError when too many or too long."""
    lines = [" ".join(line.split()) for line in text.splitlines()]
    goals = [line for line in lines if line]
    if len(goals) > MAX_GOALS:
        raise ValueError(f"at most {MAX_GOALS} goals, one a line ({len(goals)} given)")
    for number, goal in enumerate(goals, 1):
        if len(goal) > GOAL_CHARS:
            raise ValueError(f"goal {number} is {len(goal)} characters; keep each under "
                             f"{GOAL_CHARS + 1}")
    return "\n".join(goals)


def fraction_done(baseline: Decimal, now: Decimal, target: Decimal) -> Decimal:
    """How far from baseline to target `now` is, 0 to 1."""
    if target == baseline:
        return Decimal(1)
    done = (now - baseline) / (target - baseline)
    return min(max(done, Decimal(0)), Decimal(1))


def meets(value: Decimal, target: Decimal, spec: MetricSpec) -> bool:
    return value <= target if spec.lower_is_better else value >= target


def project_trend(points: Sequence[tuple[date, Decimal]], end: date) -> Decimal | None:
    """The least-squares line through the daily values, read at `end` (None with fewer than
    two days)."""
    if len(points) < 2:
        return None
    origin = points[0][0]
    xs = [Decimal((day - origin).days) for day, _ in points]
    ys = [value for _, value in points]
    n = Decimal(len(points))
    mean_x, mean_y = sum(xs) / n, sum(ys) / n
    spread = sum((x - mean_x) ** 2 for x in xs)
    if not spread:
        return None
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / spread
    return round2(mean_y + slope * (Decimal((end - origin).days) - mean_x))


def project_flow(total: Decimal, start: date, as_of: date, end: date) -> Decimal:
    """A sum so far, carried on at the same daily pace to the end date."""
    elapsed = (as_of - start).days + 1
    return round2(total * Decimal((end - start).days + 1) / elapsed)


def status_of(spec: MetricSpec, *, as_of: date, start: date, end: date, now: Decimal | None,
              target: Decimal | None, projected: Decimal | None) -> Status:
    """On track when the projection meets the target; at the end, met or missed."""
    if as_of < start or now is None or target is None:
        return "not started"
    if as_of >= end:
        return "met" if meets(now, target, spec) else "missed"
    return "on track" if meets(projected if projected is not None else now, target,
                               spec) else "behind"
