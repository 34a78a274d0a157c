"""App Home tabs: a collector's day at a glance, and a manager's view of the team."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from bot.domain.vocabulary import EscalationLevel
from bot.slack.blockkit import MAX_BLOCKS_VIEW
from bot.views.call_list import NAME_CHARS, REASON_CHARS, REF_CHARS, CallListView, row_blocks
from bot.views.escalation_actions import decision_actions
from bot.views.text import (
    Block,
    escape_mrkdwn,
    inline,
    mention,
    money,
    mrkdwn,
    plain,
    plural,
    progress_cells,
    short_date,
)

LINES_PER_SECTION = 15  # keeps a section of one-line entries far below its 3000 characters
MAX_PROMISE_SECTIONS = 3
BAR_CELLS = 10


@dataclass(frozen=True, slots=True)
class PromiseDue:
    """An open promise to pay falling due this week."""

    customer_name: str
    external_ref: str
    amount: Decimal
    promised_date: date


@dataclass(frozen=True, slots=True)
class CollectorProgress:
    """One collector's calls today against their daily target."""

    name: str
    slack_id: str | None
    done: int
    target: int
    out_of_office: bool = False


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """Calls, right-party contacts and promises in one period, against its call target."""

    start: date
    end: date  # inclusive
    calls: int
    target: int
    right_party: int
    promises: int
    promised: Decimal


@dataclass(frozen=True, slots=True)
class MyStats:
    """A collector's day and week so far."""

    name: str
    day: PeriodStats
    week: PeriodStats


@dataclass(frozen=True, slots=True)
class EscalationSummary:
    """An open escalation, as the manager's Home lists it."""

    escalation_id: int
    customer_name: str
    external_ref: str
    past_due: Decimal
    days_past_due: int
    level: EscalationLevel
    reason: str
    opened_on: date
    collector_name: str | None = None
    snoozed_until: date | None = None  # a manager snoozed it until then


def progress_bar(done: int, target: int) -> str:
    """Ten cells, filled in proportion to done / target (full once the target is met)."""
    return progress_cells(Decimal(1) if target <= 0 else Decimal(done) / target, BAR_CELLS)


def _percent(done: int, target: int) -> str:
    return "—" if target <= 0 else f"{done * 100 // target}%"


def _line_sections(lines: Sequence[str]) -> list[Block]:
    return [
        {"type": "section", "text": mrkdwn("\n".join(lines[start : start + LINES_PER_SECTION]))}
        for start in range(0, len(lines), LINES_PER_SECTION)
    ]


def _more(count: int, where: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(f"…and {count} more, {where}")]}


def collector_home(
    view: CallListView,
    *,
    now: datetime,
    target: int,
    calls_made: int,
    promises_due: Sequence[PromiseDue],
) -> dict[str, Any]:
    """Today's progress, the rest of today's list with its buttons, and promises due this week."""
    zone = view.zone
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Today · {short_date(view.list_date)}")},
        {
            "type": "section",
            "text": mrkdwn(
                f"*{calls_made} of {plural(target, 'call')}* · {_percent(calls_made, target)}"
                f" of today's target\n{progress_bar(calls_made, target)}"
            ),
        },
        {"type": "divider"},
    ]

    promise_lines = [
        f"{short_date(p.promised_date)} · *{money(p.amount)}* · {inline(p.customer_name, 60)}"
        f" ({inline(p.external_ref, REF_CHARS)})"
        for p in sorted(promises_due, key=lambda p: (p.promised_date, p.customer_name))
    ]
    shown_promises = promise_lines[: LINES_PER_SECTION * MAX_PROMISE_SECTIONS]
    tail: list[Block] = [
        {"type": "divider"},
        {"type": "header", "text": plain("Promises due this week")},
    ]
    if shown_promises:
        tail.extend(_line_sections(shown_promises))
        if len(promise_lines) > len(shown_promises):
            tail.append(_more(len(promise_lines) - len(shown_promises), "use /collect list"))
    else:
        tail.append({"type": "section", "text": mrkdwn("No promises fall due this week.")})

    # Rows recorded for good drop off; a row whose undo window is open stays, with its Undo.
    pending = [
        item
        for item in view.items
        if (recorded := view.recorded.get(item.customer_id)) is None or now < recorded.undo_until
    ]
    blocks.append({"type": "header", "text": plain("Still to call")})
    budget = MAX_BLOCKS_VIEW - len(blocks) - len(tail)
    if not pending:
        blocks.append(
            {"type": "section", "text": mrkdwn("Nothing left on today's list. Nice work.")}
        )
    for index, item in enumerate(pending):
        row = row_blocks(
            item,
            call_list_id=view.call_list_id,
            recorded=view.recorded.get(item.customer_id),
            now=now,
            zone=zone,
        )
        left = len(pending) - index
        # Keep one block free for the "and N more" line unless this is the last row.
        reserve = 0 if left == 1 else 1
        if len(row) + reserve > budget:
            blocks.append(_more(left, "use /collect list"))
            break
        blocks.extend(row)
        budget -= len(row)
    blocks.extend(tail)
    return {"type": "home", "blocks": blocks}


def manager_home(
    *,
    today: date,
    team: Sequence[CollectorProgress],
    escalations: Sequence[EscalationSummary],
    plan: Sequence[Block] = (),
    recap: tuple[str, str | None] | None = None,
) -> dict[str, Any]:
    """Team progress per collector (done / target), the objectives' activity plan (`plan`,
    built by bot.views.goals.plan_section) and the open escalations, oldest first; `recap`:
    the latest weekly recap's headline and the link to its post."""
    done = sum(member.done for member in team)
    target = sum(member.target for member in team)
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"Team · {short_date(today)}")},
        {
            "type": "section",
            "text": mrkdwn(
                f"*{done} of {plural(target, 'call')}* · {_percent(done, target)} of today's"
                f" target\n{progress_bar(done, target)}"
            ),
        },
    ]
    if recap is not None:
        headline, link = recap
        shown = f"<{link}|{escape_mrkdwn(headline)}>" if link else escape_mrkdwn(headline)
        blocks.append({"type": "context", "elements": [mrkdwn(f"Latest: {shown}")]})
    lines = []
    for member in sorted(team, key=lambda m: m.name.casefold()):
        away = " · out of office" if member.out_of_office else ""
        lines.append(
            f"{mention(member.slack_id, member.name)} {progress_bar(member.done, member.target)}"
            f" {member.done}/{member.target}{away}"
        )
    blocks.extend(_line_sections(lines) if lines else [])
    if not lines:
        blocks.append({"type": "section", "text": mrkdwn("No collectors on the roster yet.")})
    blocks.extend(plan)
    blocks.append({"type": "divider"})
    blocks.append({"type": "header", "text": plain(f"Open escalations ({len(escalations)})")})
    if not escalations:
        blocks.append({"type": "section", "text": mrkdwn("No open escalations.")})
    ordered = sorted(escalations, key=lambda e: (e.opened_on, e.escalation_id))
    for index, escalation in enumerate(ordered):
        left = len(ordered) - index
        # Its text and its buttons, and room for the "…and N more" line after them.
        if len(blocks) + (2 if left == 1 else 3) > MAX_BLOCKS_VIEW:
            blocks.append(_more(left, "each is in your escalation DMs"))
            break
        blocks.append({"type": "section", "text": mrkdwn(_escalation_text(escalation))})
        blocks.extend(decision_actions(escalation.escalation_id,
                                       customer_name=escalation.customer_name))
    return {"type": "home", "blocks": blocks}


def _escalation_text(escalation: EscalationSummary) -> str:
    owner = f" · {inline(escalation.collector_name, 40)}" if escalation.collector_name else ""
    return (
        f"*{inline(escalation.customer_name, NAME_CHARS)}* · "
        f"{inline(escalation.external_ref, REF_CHARS)}\n"
        f"*{money(escalation.past_due)}* past due · {plural(escalation.days_past_due, 'day')}"
        f" · to {escalation.level.value} since {short_date(escalation.opened_on)}{owner}\n"
        f"_{inline(escalation.reason, REASON_CHARS)}_"
        + (f"\n:zzz: snoozed until {short_date(escalation.snoozed_until)}"
           if escalation.snoozed_until else "")
    )
