"""`/collect goals`: each objective as baseline → now → target with a progress bar and its
calls-a-day plan; a manager also gets the buttons that open the edit modals."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.domain.objectives import ObjectiveProgress
from bot.views.terminal_objectives import bar, figure
from bot.views.text import inline, mrkdwn, plain

ADD_OBJECTIVE = "goals_add_objective"
EDIT_OBJECTIVE = "goals_edit_objective"
EDIT_GOALS = "goals_edit_goals"
EDIT_CALL_TARGETS = "goals_edit_call_targets"
STATUS_EMOJI = {"on track": ":large_green_circle:", "behind": ":red_circle:",
                "not started": ":white_circle:", "met": ":white_check_mark:",
                "missed": ":x:"}
MAX_OBJECTIVES = 20  # 4 blocks each, within a message's 50
MAX_PLAN_LINES = 10  # one section on the App Home, far below its 3000 characters


def _plan_text(p: ObjectiveProgress) -> str:
    plan = p.plan
    if plan.money_needed is None:
        return "Calls do not move this metric: no call plan."
    needed = "-" if plan.needed is None else f"{plan.needed:,}"
    return (f"Calls a day — needed *{needed}* · planned {plan.planned:,} · made "
            f"{plan.made:,.1f} (last 5 working days) · ${plan.money_needed:,.0f} to collect at "
            f"${plan.cash_per_call:,.2f} a call · {plan.working_days_left} working days left")


def goals_blocks(items: Sequence[ObjectiveProgress], *, is_manager: bool) -> list[dict[str, Any]]:
    """The objectives, newest plan first; a manager's copy has the add/edit buttons."""
    blocks: list[dict[str, Any]] = [{"type": "header", "text": plain("Objectives")}]
    if not items:
        blocks.append({"type": "section", "text": mrkdwn(
            "No objectives yet." + (" Add one below." if is_manager else
                                    " Your manager sets them."))})
    for p in items[:MAX_OBJECTIVES]:
        status = f"{STATUS_EMOJI.get(p.status, '')} {p.status}"
        projected = "" if p.projected is None else f" · projected {figure(p.projected, p.metric)}"
        section: dict[str, Any] = {
            "type": "section",
            "text": mrkdwn(
                f"*{inline(p.name, 150)}* · {p.start:%b %d} to {p.end:%b %d}\n"
                f"{figure(p.baseline, p.metric)} → *{figure(p.now, p.metric)}* → "
                f"{figure(p.target, p.metric)}\n`{bar(p.fraction, 16)}` {status}{projected}"),
        }
        if is_manager:
            section["accessory"] = {"type": "button", "text": plain("Edit"),
                                    "action_id": EDIT_OBJECTIVE, "value": str(p.objective_id)}
        blocks.append(section)
        context = [mrkdwn(_plan_text(p))]
        if p.goals:
            context.append(mrkdwn(f"Goals: {inline(p.goals, 1500)}"))
        blocks.append({"type": "context", "elements": context})
        if is_manager:
            blocks.append({"type": "actions", "elements": [
                {"type": "button", "text": plain("Edit goals"), "action_id": EDIT_GOALS,
                 "value": str(p.objective_id)}]})
        blocks.append({"type": "divider"})
    if len(items) > MAX_OBJECTIVES:
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"{len(items) - MAX_OBJECTIVES} more: `collectbot objective list`")]})
    if is_manager:
        blocks.append({"type": "actions", "elements": [
            {"type": "button", "text": plain("Add an objective"), "action_id": ADD_OBJECTIVE,
             "style": "primary"},
            {"type": "button", "text": plain("Daily call targets"),
             "action_id": EDIT_CALL_TARGETS},
        ]})
    return blocks


def goals_text(items: Sequence[ObjectiveProgress]) -> str:
    """The notification text beside the blocks."""
    if not items:
        return "No objectives yet."
    return "; ".join(f"{p.name}: {p.status}" for p in items[:5])


def plan_section(items: Sequence[ObjectiveProgress]) -> list[dict[str, Any]]:
    """The App Home manager's section: each open objective's calls a day, needed vs planned
    vs made (the figures `/collect goals` shows); nothing when there is no objective."""
    if not items:
        return []
    lines = [f"*{inline(p.name, 80)}* · {p.status}\n{_plan_text(p)}"
             for p in items[:MAX_PLAN_LINES]]
    if len(items) > MAX_PLAN_LINES:
        lines.append(f"{len(items) - MAX_PLAN_LINES} more: `/collect goals`")
    return [{"type": "divider"},
            {"type": "header", "text": plain("Activity plan")},
            {"type": "section", "text": mrkdwn("\n".join(lines))}]
