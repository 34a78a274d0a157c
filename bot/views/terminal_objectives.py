"""Objectives in a terminal: baseline → now → target, status, and calls a day needed."""

from __future__ import annotations

from decimal import Decimal

from bot.domain.objectives import OBJECTIVE_METRICS, ObjectiveProgress
from bot.views.text import progress_cells, tenths


def figure(value: Decimal | None, metric: str) -> str:
    """A metric's value as a person reads it: 45.2 days, 98.0%, $12,400."""
    if value is None:
        return "?"
    unit = OBJECTIVE_METRICS[metric].unit
    if unit == "days":
        return f"{tenths(value):,} days"
    if unit == "pct":
        return f"{tenths(value)}%"
    return f"${value:,.0f}"


def bar(fraction: Decimal | None, width: int = 20) -> str:
    """A text progress bar, e.g. ▓▓▓▓░░░░ 50%."""
    if fraction is None:
        return "░" * width + "   -"
    return progress_cells(fraction, width) + f" {fraction * 100:3.0f}%"


def plan_line(progress: ObjectiveProgress) -> str:
    plan = progress.plan
    needed = "no plan (calls do not move this metric)" if plan.needed is None and \
        plan.money_needed is None else (
        "-" if plan.needed is None else f"{plan.needed:,}")
    source = "learned" if plan.learned else "default"
    money = "" if plan.money_needed is None else f" · ${plan.money_needed:,.0f} to collect"
    return (f"calls a day: needed {needed} · planned {plan.planned:,} · made {plan.made:,.1f}"
            f" (last 5 working days){money} · ${plan.cash_per_call:,.2f} a call ({source})"
            f" · {plan.working_days_left} working days left")


def render_objectives(items: list[ObjectiveProgress]) -> str:
    if not items:
        return "No objectives. Add one: collectbot objective add --metric dso --target -5% ..."
    out: list[str] = []
    for p in items:
        closed = " (closed)" if p.closed else ""
        out.append(f"#{p.objective_id} {p.name}{closed} · {p.start.isoformat()} to "
                   f"{p.end.isoformat()}")
        out.append(f"  {figure(p.baseline, p.metric)} → {figure(p.now, p.metric)} → "
                   f"{figure(p.target, p.metric)}  {bar(p.fraction)}  {p.status}"
                   + ("" if p.projected is None
                      else f" (projected {figure(p.projected, p.metric)})"))
        out.append(f"  {plan_line(p)}")
        if p.goals:
            out.append(f"  goals: {p.goals}")
    return "\n".join(out)
