"""The morning call list as Slack messages: one row per account, one click per outcome."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from bot.domain.accounts import CallListItem
from bot.domain.calendar import local_date
from bot.domain.vocabulary import OUTCOME_LABELS, Outcome
from bot.slack.blockkit import MAX_BLOCKS_MESSAGE
from bot.views import actions
from bot.views.text import (
    Block,
    Message,
    inline,
    mention,
    money,
    mrkdwn,
    one_line,
    plain,
    plural,
    short_date,
    truncate,
    zone_named,
)

# Visible characters per untrusted piece of a row. Escaping can grow each piece up to five-fold
# (& -> &amp;), and the row must stay under the section's 3000 characters even then.
NAME_CHARS = 80
REF_CHARS = 30
REASON_CHARS = 200
CONTACT_CHARS = 60
PHONE_CHARS = 30
BY_NAME_CHARS = 40
FALLBACK_NAMES = 3
FALLBACK_NAME_CHARS = 40

BUTTONS: tuple[tuple[str, str], ...] = (
    (actions.ACTION_REACHED, "Reached"),
    (actions.ACTION_LEFT_VOICEMAIL, "Voicemail"),
    (actions.ACTION_NO_ANSWER, "No answer"),
    (actions.ACTION_OPEN_PROMISE, "Promise to pay…"),
    (actions.ACTION_PAID, "Paid"),
    (actions.ACTION_OPEN_DISPUTE, "Dispute…"),
)


@dataclass(frozen=True, slots=True)
class RecordedOutcome:
    """What was recorded on a row today: shown instead of the buttons, undoable for a while."""

    outcome: Outcome
    by_name: str
    at: datetime
    attempt_id: int
    undo_until: datetime

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.undo_until.tzinfo is None:
            raise ValueError("recorded outcome times must be timezone-aware")


@dataclass(frozen=True, slots=True)
class CallListView:
    """One collector's list for one day, and what has been recorded on it so far."""

    collector_name: str
    collector_slack_id: str
    tz: str
    list_date: date
    call_list_id: int
    past_due_book: Decimal
    items: Sequence[CallListItem]
    recorded: Mapping[int, RecordedOutcome] = field(default_factory=dict)  # by customer_id

    def __post_init__(self) -> None:
        zone_named(self.tz)  # an unknown zone fails here, not halfway through rendering
        customer_ids = [item.customer_id for item in self.items]
        if len(set(customer_ids)) != len(customer_ids):
            raise ValueError(f"call list {self.call_list_id} lists a customer twice")

    @property
    def zone(self) -> ZoneInfo:
        return zone_named(self.tz)

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.customer_id in self.recorded)


# A row is its section plus, until recorded, its actions block.
ROW_MAX_BLOCKS = 2


def _require_aware(now: datetime) -> None:
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")


def _clock(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%H:%M")


def recorded_line(recorded: RecordedOutcome, zone: ZoneInfo) -> str:
    """ "✅ Promise to pay — by Ana at 09:42", the time in the collector's zone."""
    label = OUTCOME_LABELS[recorded.outcome]
    by_name = inline(recorded.by_name, BY_NAME_CHARS)
    return f"✅ {label} — by {by_name} at {_clock(recorded.at, zone)}"


def reason_tail(reason: str) -> str:
    """The reason without its leading balance and age, which the row already shows in bold."""
    parts = reason.split(" · ")
    if len(parts) >= 2 and parts[0].endswith("past due"):
        parts = parts[2:]
    return " · ".join(parts)


def row_blocks(
    item: CallListItem,
    *,
    call_list_id: int,
    recorded: RecordedOutcome | None,
    now: datetime,
    zone: ZoneInfo,
) -> list[Block]:
    """One account: its section, then its buttons (or an Undo button, or nothing once recorded)."""
    _require_aware(now)
    ref = actions.RowRef(call_list_id, item.customer_id)
    row_id = actions.encode_row(ref)
    lines = [
        f"*{item.position}. {inline(item.name, NAME_CHARS)}*"
        f" · {inline(item.external_ref, REF_CHARS)}",
        f"*{money(item.past_due)}* past due · {plural(item.days_past_due, 'day')}"
        + (f" · _{inline(why, REASON_CHARS)}_" if (why := reason_tail(item.reason)) else ""),
    ]
    contact = [
        inline(part, limit)
        for part, limit in ((item.contact_name, CONTACT_CHARS), (item.phone, PHONE_CHARS))
        if part
    ]
    if contact:
        lines.append("📞 " + " · ".join(contact))
    if item.last_outcome is not None:
        last = f"Last: {OUTCOME_LABELS[item.last_outcome]}"
        if item.last_attempt_at is not None:
            last += f" on {short_date(local_date(item.last_attempt_at, zone))}"
        lines.append(last)
    undo_open = recorded is not None and now < recorded.undo_until
    if recorded is not None:
        line = recorded_line(recorded, zone)
        if undo_open:
            line += f" · undo until {_clock(recorded.undo_until, zone)}"
        lines.append(line)
    blocks: list[Block] = [
        {"type": "section", "block_id": f"row:{row_id}", "text": mrkdwn("\n".join(lines))}
    ]
    if recorded is None:
        blocks.append({"type": "actions", "block_id": f"act:{row_id}", "elements": _buttons(ref)})
    elif undo_open:
        undo = actions.UndoRef(ref, recorded.attempt_id)
        blocks.append(
            {
                "type": "actions",
                "block_id": f"act:{row_id}",
                "elements": [
                    {
                        "type": "button",
                        "action_id": actions.ACTION_UNDO,
                        "text": plain("Undo"),
                        "value": actions.encode_undo(undo),
                    }
                ],
            }
        )
    return blocks


def _buttons(ref: actions.RowRef) -> list[dict[str, Any]]:
    value = actions.encode_row(ref)
    elements: list[dict[str, Any]] = [
        {"type": "button", "action_id": action_id, "text": plain(label), "value": value}
        for action_id, label in BUTTONS
    ]
    elements.append(
        {
            "type": "overflow",
            "action_id": actions.ACTION_MORE,
            "options": [
                {
                    "text": plain(actions.MORE_LABELS[choice]),
                    "value": actions.encode_more(choice, ref),
                }
                for choice in actions.MORE_CHOICES
            ],
        }
    )
    return elements


def render_call_list(view: CallListView, *, now: datetime) -> list[Message]:
    """The collector's list as one or more messages, each within Slack's limits."""
    return _render(
        view,
        now=now,
        title=f"Call list · {short_date(view.list_date)}",
        intro=(
            f"{plural(len(view.items), 'call')} · {money(view.past_due_book)} past due in your book"
            " outside disputes"
        ),
        fallback_lead=f"Your call list for {short_date(view.list_date)}",
    )


def render_backup_notice(
    view: CallListView, *, backup_name: str, now: datetime, status_text: str | None = None
) -> list[Message]:
    """The absent collector's list for their backup, titled so nobody mistakes whose it is."""
    absent = inline(view.collector_name, NAME_CHARS)
    why = f" ({inline(status_text, 80)})" if status_text else ""
    return _render(
        view,
        now=now,
        title=f"Covering for {truncate(one_line(view.collector_name), 60)}"
        f" · {short_date(view.list_date)}",
        intro=(
            f"{inline(backup_name, NAME_CHARS)},"
            f" {mention(view.collector_slack_id, view.collector_name)} is out of office today{why}."
            f" Their list is yours today: {plural(len(view.items), 'call')}"
            f" · {money(view.past_due_book)} past due in {absent}'s book outside disputes"
        ),
        fallback_lead=f"Covering for {absent} on {short_date(view.list_date)}",
    )


def render_manager_ooo_notice(
    *,
    absent_name: str,
    absent_slack_id: str | None,
    list_date: date,
    calls: int,
    past_due: Decimal,
    backup_name: str | None = None,
    backup_slack_id: str | None = None,
    status_text: str | None = None,
) -> Message:
    """Tells the manager a collector is out today and where their list went."""
    who = mention(absent_slack_id, absent_name)
    why = f" ({inline(status_text, 80)})" if status_text else ""
    work = f"{plural(calls, 'call')} ({money(past_due)} past due)"
    if backup_name is not None:
        went = f"Their {work} went to {mention(backup_slack_id, backup_name)}."
        fallback_tail = f"list went to {inline(backup_name, FALLBACK_NAME_CHARS)}"
    else:
        went = f"No backup is set: their {work} wait. Reassign them or name a backup in the roster."
        fallback_tail = "no backup is set"
    absent = inline(absent_name, FALLBACK_NAME_CHARS)
    return Message(
        text=f"{absent} is out of office on {short_date(list_date)}; {fallback_tail}.",
        blocks=[
            {
                "type": "header",
                "text": plain(truncate(f"Out of office · {short_date(list_date)}", 150)),
            },
            {"type": "section", "text": mrkdwn(f"{who} is out of office today{why}. {went}")},
        ],
    )


def _render(
    view: CallListView, *, now: datetime, title: str, intro: str, fallback_lead: str
) -> list[Message]:
    _require_aware(now)
    day = short_date(view.list_date)
    if not view.items:
        text = f"No calls today ({day}): nothing is due on your accounts."
        return [
            Message(
                text=text,
                blocks=[
                    {"type": "header", "text": plain(truncate(title, 150))},
                    {
                        "type": "section",
                        "text": mrkdwn(
                            "No calls today: nothing is due, and no promise or callback needs you."
                            f" {money(view.past_due_book)} past due in the book outside disputes."
                        ),
                    },
                ],
            )
        ]
    zone = view.zone
    rows = [
        row_blocks(
            item,
            call_list_id=view.call_list_id,
            recorded=view.recorded.get(item.customer_id),
            now=now,
            zone=zone,
        )
        for item in view.items
    ]
    head: list[Block] = [
        {"type": "header", "text": plain(truncate(title, 150))},
        {"type": "section", "text": mrkdwn(intro)},
        {
            "type": "context",
            "elements": [mrkdwn(f"Done {view.done} of {len(view.items)}")],
        },
        {"type": "divider"},
    ]
    # Greedy packing by a row's largest size (section + buttons), not its current one, so the
    # partition never changes when rows are recorded and every part can be chat.update'd in place.
    chunks: list[list[int]] = [[]]
    used = len(head)
    for index in range(len(rows)):
        if used + ROW_MAX_BLOCKS > MAX_BLOCKS_MESSAGE:
            chunks.append([])
            used = 1
        chunks[-1].append(index)
        used += ROW_MAX_BLOCKS
    total = len(chunks)
    if total > 1:
        head[0] = {"type": "header", "text": plain(truncate(f"{title} (1/{total})", 150))}
    messages: list[Message] = []
    for number, chunk in enumerate(chunks, start=1):
        first, last = view.items[chunk[0]], view.items[chunk[-1]]
        names = ", ".join(
            inline(view.items[i].name, FALLBACK_NAME_CHARS) for i in chunk[:FALLBACK_NAMES]
        )
        if len(chunk) > FALLBACK_NAMES:
            names += ", …"
        if number == 1:
            blocks = list(head)
            text = (
                f"{fallback_lead}: {plural(len(view.items), 'call')},"
                f" {money(view.past_due_book)} past due outside disputes. First: {names}"
            )
        else:
            span = f"calls {first.position}–{last.position} of {len(view.items)}"
            blocks = [
                {
                    "type": "context",
                    "elements": [mrkdwn(f"*Call list ({number}/{total})* · {day} · {span}")],
                }
            ]
            text = f"Call list ({number}/{total}) for {day}: {span}: {names}"
        for index in chunk:
            blocks.extend(rows[index])
        messages.append(Message(text=text, blocks=blocks))
    return messages
