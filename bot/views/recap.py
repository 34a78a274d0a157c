"""The weekly recap in Block Kit: a short top message for the channel, the details in its thread."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date
from decimal import Decimal
from typing import Any, cast

from rich.text import Text

from bot.domain.assessment import REGRESSION_WARNING, ROLL_OUTCOME, DiffInDiff, Ratio
from bot.domain.objectives import ObjectiveProgress
from bot.domain.recap import (
    CollectorWeek,
    Kpi,
    Recap,
    StrategyAssessment,
    Unit,
)
from bot.views.terminal import mrkdwn_rich
from bot.views.terminal_objectives import bar
from bot.views.terminal_objectives import figure as metric_figure
from bot.views.text import Block, Message, inline, mention, money, mrkdwn, plain, short_date, tenths

LINES_PER_SECTION = 10  # lines of up to ~250 characters: far below a section's 3000
CHART_BLOCK_ID = "recap_dso_chart"
CHART_TITLE = "DSO, last 12 weeks, against the target"
_ZERO = Decimal(0)
_HUNDRED = Decimal(100)


# --- numbers as the team reads them ------------------------------------------------------------


def figure(value: Decimal | None, unit: Unit) -> str:
    """A value in its unit: 52.3 days, 48.2%, $12,400, $0.04; "n/a" when undefined."""
    if value is None:
        return "n/a"
    if unit == "days":
        return f"{tenths(value)} days"
    if unit == "percent":
        return f"{tenths(value)}%"
    if unit == "ratio":
        return f"${value:.2f}"
    return money(value)


def change_text(kpi: Kpi) -> str:
    """The change from last week with an arrow, e.g. "▼ 1.2 days", "▲ 1.3 pts" (a percentage's
    change is in points: 80% to 81.3% is not "1.3%" more); "—" when unknown or none."""
    change = kpi.change
    if kpi.value is None:
        return "no figure this week"
    if change is None:
        return "no figure last week"
    if change == _ZERO:
        return "unchanged"
    arrow = "▲" if change > _ZERO else "▼"
    if kpi.unit == "percent":
        return f"{arrow} {tenths(abs(change))} pts"
    return f"{arrow} {figure(abs(change), kpi.unit)}"


def recap_headline(week_start: date, week_end: date) -> str:
    """The top message's title, also the App Home's link to it."""
    return f"Weekly recap · {short_date(week_start)} – {short_date(week_end)}"


def objective_line(objective: ObjectiveProgress) -> str:
    """ "*Reduce DSO by 5%* (by 28 Feb): 52.0 days → 50.1 days → 49.4 days `▓▓▓░░` 73% · on track"

    The same figures and bar as `/collect goals` and `collectbot objective list`.
    """
    return (
        f"*{inline(objective.name, 80)}* (by {short_date(objective.end)}): "
        f"{metric_figure(objective.baseline, objective.metric)} → "
        f"{metric_figure(objective.now, objective.metric)} → "
        f"{metric_figure(objective.target, objective.metric)}  `{bar(objective.fraction, 10)}` · "
        f"{objective.status}"
    )


def _bare(value: Decimal | None, unit: Unit) -> str:
    return figure(value, unit).removesuffix(" days")


def calls_line(recap: Recap) -> str:
    plan = recap.calls
    share = f" ({plan.made * 100 // plan.planned}%)" if plan.planned else ""
    line = f"Calls: {plan.made} made of {plan.planned} planned{share}"
    if plan.needed_per_day is not None:
        planned = "" if plan.planned_per_day is None else f", {plan.planned_per_day} planned"
        line += f" · the objectives need {plan.needed_per_day} a day{planned}"
    return line


def dso_trend_text(recap: Recap) -> str:
    """The chart's numbers in words, for notifications and screen readers."""
    points = ", ".join(
        f"{p.label} {_bare(p.dso, 'days')}" for p in recap.trend
    )
    target = "" if recap.dso_target is None else f"; target {figure(recap.dso_target, 'days')}"
    return f"DSO by week: {points}{target}"


# --- the top message -------------------------------------------------------------------------


def recap_top(recap: Recap, *, chart: bool = True) -> Message:
    """The channel post: objectives, headline KPIs, calls against plan, the DSO chart."""
    title = recap_headline(recap.week_start, recap.week_end)
    blocks: list[Block] = [{"type": "header", "text": plain(title)}]
    text_lines = [title]
    if recap.objectives:
        lines = [objective_line(o) for o in recap.objectives]
        blocks.extend(_sections(lines))
        text_lines.extend(lines)
    kpi_fields = [mrkdwn(f"*{k.label}*\n{figure(k.value, k.unit)} ({change_text(k)})")
                  for k in recap.kpis[:10]]
    if kpi_fields:
        blocks.append({"type": "section", "fields": kpi_fields})
        text_lines.extend(
            f"{k.label}: {figure(k.value, k.unit)} ({change_text(k)})" for k in recap.kpis
        )
    calls = calls_line(recap)
    blocks.append({"type": "section", "text": mrkdwn(calls)})
    text_lines.append(calls)
    if recap.trend:
        text_lines.append(dso_trend_text(recap))
        chart_block = dso_chart_block(recap) if chart else None
        if chart_block is not None:
            blocks.append(chart_block)
        else:
            blocks.append({"type": "context", "elements": [mrkdwn(dso_trend_text(recap))]})
    blocks.append({"type": "context", "elements": [
        mrkdwn("Per collector, escalations and what worked: in the thread.")]})
    return Message("\n".join(text_lines), blocks)


def dso_chart_block(recap: Recap) -> Block | None:
    """A native line chart of weekly DSO and the target; None without any DSO to draw."""
    points = [p for p in recap.trend if p.dso is not None][-12:]
    if not points:
        return None
    labels = [p.label for p in points]
    series: list[dict[str, Any]] = [{
        "name": "DSO",
        "data": [{"label": p.label, "value": _number(p.dso)} for p in points],
    }]
    if recap.dso_target is not None:
        target = _number(recap.dso_target)
        series.append({"name": "Target", "data": [{"label": lb, "value": target} for lb in labels]})
    return {
        "type": "data_visualization",
        "block_id": CHART_BLOCK_ID,
        "title": CHART_TITLE,
        "chart": {
            "type": "line",
            "axis_config": {"categories": labels, "x_label": "Week ending", "y_label": "Days"},
            "series": series,
        },
    }


def _number(value: Decimal | None) -> float:
    # A chart value is a JSON number; one decimal is what the text shows too.
    return float(tenths(value or _ZERO))


# --- the thread ------------------------------------------------------------------------------


def recap_thread(recap: Recap) -> list[Message]:
    """The replies under the post: per collector, escalations, the assessment."""
    messages = []
    if recap.collectors:
        lines = [collector_line(c) for c in recap.collectors]
        messages.append(_message("*Per collector, last week*", lines))
    if recap.escalations is not None:
        e = recap.escalations
        line = f"*Escalations:* {e.opened} opened, {e.closed} closed, {e.open_now} open now"
        messages.append(Message(line, [{"type": "section", "text": mrkdwn(line)}]))
    if recap.strategies or recap.effort or recap.gaps:
        messages.append(assessment_message(recap))
    return messages


def collector_line(c: CollectorWeek) -> str:
    cash_target = "" if c.cash_target is None else f" of {money(c.cash_target)}"
    return (
        f"{mention(c.slack_id, c.name)}: {c.calls}/{c.calls_target} calls · "
        f"{c.right_party_contacts} right-party contacts · promises {c.promises_made} made, "
        f"{c.promises_kept} kept, {c.promises_broken} broken · "
        f"{money(c.cash_collected)}{cash_target} collected"
    )


def assessment_message(recap: Recap) -> Message:
    """Did each strategy make a difference, and where effort goes against where cash comes from."""
    lines: list[str] = []
    for strategy in recap.strategies:
        lines.extend(strategy_lines(strategy))
    if recap.effort:
        lines.append("*Effort against yield* (share of calls → share of cash):")
        lines.extend(
            f"• {row.label}: {row.call_share:.0f}% of calls → {row.cash_share:.0f}% of cash"
            for row in recap.effort
        )
    if recap.gaps:
        lines.append("*Payment within 30 days by days since the previous contact:*")
        lines.extend(
            f"• {row.band}: {figure(row.rate, 'percent')} ({row.paid} of {row.contacts})"
            for row in recap.gaps
        )
    return _message("*Assessment: did it make a difference?*", lines)


def strategy_lines(strategy: StrategyAssessment) -> list[str]:
    since = "" if strategy.changed_on is None else f" (since {short_date(strategy.changed_on)})"
    lines = [f"*{inline(strategy.name, 60)}*{since}"]
    if strategy.did is None:
        lines.append("• Before/after: not enough time since the change yet")
    else:
        lines.append(f"• Before/after vs the rest, {strategy.outcome}: {did_text(strategy.did)}")
    if strategy.roll is not None:
        lines.append(f"• Before/after vs the rest, {ROLL_OUTCOME}: {did_text(strategy.roll)}")
    if strategy.holdout is None:
        lines.append(f"• {REGRESSION_WARNING}")
    else:
        held = strategy.holdout_share
        share = "" if held is None else f" ({held:.0%} held out)"
        lines.append(f"• Treated vs held out{share}: {strategy.holdout.summary(strategy.outcome)}")
    return lines


def did_text(did: DiffInDiff) -> str:
    estimate = did.estimate
    if estimate is None:
        return "not enough data yet (a group has no balance in a window)"
    return (
        f"segment {_ratio(did.segment_before)} → {_ratio(did.segment_after)}, rest "
        f"{_ratio(did.rest_before)} → {_ratio(did.rest_after)}: {estimate:+.1f} pts beyond the rest"
    )


def _ratio(ratio: Ratio) -> str:
    return figure(ratio.value, "percent")


def _message(heading: str, lines: Sequence[str]) -> Message:
    blocks: list[Block] = [{"type": "section", "text": mrkdwn(heading)}]
    blocks.extend(_sections(lines))
    return Message("\n".join([heading, *lines]), blocks)


def _sections(lines: Sequence[str]) -> list[Block]:
    return [
        {"type": "section", "text": mrkdwn("\n".join(lines[i:i + LINES_PER_SECTION]))}
        for i in range(0, len(lines), LINES_PER_SECTION)
    ]


# --- the terminal and JSON -------------------------------------------------------------------


def recap_rich(recap: Recap) -> list[Text]:
    """`collectbot recap` at a terminal: the post's and the thread's text in order, as Slack
    shows it (bold, collectors by name, no mrkdwn markers)."""
    names = {c.slack_id: c.name for c in recap.collectors if c.slack_id}
    return [mrkdwn_rich(m.text, names)
            for m in [recap_top(recap, chart=False), *recap_thread(recap)]]


def recap_terminal(recap: Recap) -> str:
    """`collectbot recap` piped or in the demo: the same, plain."""
    return "\n\n".join(text.plain for text in recap_rich(recap))


def recap_json(recap: Recap) -> dict[str, Any]:
    """`collectbot recap --json`: every field, decimals and dates as strings."""

    def plain_value(value: Any) -> Any:
        if isinstance(value, dict):
            return {str(k): plain_value(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain_value(v) for v in value]
        if isinstance(value, Decimal | date):
            return str(value)
        return value

    return cast(dict[str, Any], plain_value(asdict(recap)))
