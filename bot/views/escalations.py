"""An escalation as its manager reads it: the account's state, the reasons, and room for the
decision buttons (the `actions` a caller passes), single or in a digest."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from bot.domain.aging import BUCKETS, Bucket
from bot.domain.calendar import local_date
from bot.domain.vocabulary import OUTCOME_LABELS, EscalationLevel, EscalationStatus, Outcome
from bot.views.text import (
    Block,
    Message,
    inline,
    mention,
    money,
    mrkdwn,
    plain,
    plural,
    short_date,
    truncate,
)

NAME_CHARS = 80
REF_CHARS = 40
NOTE_CHARS = 200
REASON_CHARS = 1500
HEADER_CHARS = 150
# A digest lists this many escalations with their details; the rest are counted.
DIGEST_SHOWN = 8


@dataclass(frozen=True, slots=True)
class AttemptSeen:
    """One of an escalated account's last calls."""

    at: datetime
    outcome: Outcome
    collector_name: str
    note: str | None


@dataclass(frozen=True, slots=True)
class EscalationDetail:
    """Everything an escalation message shows."""

    escalation_id: int
    customer_name: str
    external_ref: str
    collector_name: str | None
    collector_slack_id: str | None
    reason: str
    opened_at: datetime
    past_due: Decimal
    days_past_due: int
    aging: dict[Bucket, Decimal]
    days_since_contact: int | None
    attempts: int  # calls ever made on the account
    last_attempts: tuple[AttemptSeen, ...]  # the last five, newest first
    promises_kept: int
    promises_broken: int
    status: EscalationStatus = EscalationStatus.OPEN
    close_reason: str | None = None
    closed_at: datetime | None = None
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    snoozed: str | None = None  # "snoozed until 14 Dec by Mia: …" while a snooze holds
    # Its level: "Escalated to you: not decided by Max in 4 working days", or on a lower
    # level's message "Went up to Lia on 2 Dec: …".
    level_note: str | None = None
    recommendation: Recommendation | None = None  # at the last level, the policy's next step


@dataclass(frozen=True, slots=True)
class Recommendation:
    """What the policy says comes after the manager, and why it applies now."""

    level: EscalationLevel  # agency or legal
    contacts: int
    max_contacts: int
    segment: str
    path: tuple[EscalationLevel, ...]


RECOMMENDED_WORDS = {EscalationLevel.AGENCY: "send it to a collection agency",
                     EscalationLevel.LEGAL: "approve legal action"}


def _title(detail: EscalationDetail) -> str:
    name = truncate(" ".join(detail.customer_name.split()), NAME_CHARS)
    return truncate(f"Escalation: {name} ({detail.external_ref})", HEADER_CHARS)


def _facts_line(detail: EscalationDetail) -> str:
    collector = (mention(detail.collector_slack_id, detail.collector_name)
                 if detail.collector_name else "unassigned")
    contact = ("never contacted" if detail.days_since_contact is None
               else f"last contact {plural(detail.days_since_contact, 'day')} ago")
    return (f"*{money(detail.past_due)}* past due · oldest {plural(detail.days_past_due, 'day')}"
            f" · {contact} · {plural(detail.attempts, 'attempt')} · promises "
            f"{detail.promises_kept} kept, {detail.promises_broken} broken · collector "
            f"{collector}")


def _aging_line(detail: EscalationDetail) -> str:
    parts = [f"{b.label} {money(detail.aging[b])}" for b in BUCKETS if detail.aging.get(b)]
    return "Aging: " + (" · ".join(parts) if parts else "nothing open")


def _attempt_line(attempt: AttemptSeen, zone: ZoneInfo) -> str:
    at = attempt.at.astimezone(zone)
    note = f" · _{inline(attempt.note, NOTE_CHARS)}_" if attempt.note else ""
    return (f"• {short_date(at.date())} {at:%H:%M} · {OUTCOME_LABELS[attempt.outcome]} · "
            f"{inline(attempt.collector_name, 40)}{note}")


def _attempts_text(detail: EscalationDetail) -> str:
    if not detail.last_attempts:
        return "*Last attempts:* none yet"
    return "*Last attempts*\n" + "\n".join(
        _attempt_line(a, detail.zone) for a in detail.last_attempts)


def _state_line(detail: EscalationDetail) -> str | None:
    if detail.status is EscalationStatus.OPEN:
        return None
    when = detail.closed_at.astimezone(detail.zone) if detail.closed_at else None
    at = f" on {short_date(when.date())} {when:%H:%M}" if when else ""
    word = "Closed by itself" if detail.status is EscalationStatus.CLOSED else "Decided"
    because = f": {inline(detail.close_reason, 300)}" if detail.close_reason else ""
    return f":white_check_mark: *{word}*{at}{because}"


def escalation_blocks(
    detail: EscalationDetail, *, actions: Sequence[Block] = (), brief: bool = False
) -> list[Block]:
    """The escalation's blocks; `actions` (decision buttons) go under it while it is open.
    `brief` leaves out the aging and the attempts (a digest's entries)."""
    reason = inline(detail.reason, REASON_CHARS)
    blocks: list[Block] = [
        {"type": "section", "text": mrkdwn(
            f"*{inline(detail.customer_name, NAME_CHARS)}* · "
            f"{inline(detail.external_ref, REF_CHARS)}\n{_facts_line(detail)}\n"
            f":warning: {reason}")},
    ]
    if not brief:
        blocks.append({"type": "context", "elements": [mrkdwn(_aging_line(detail))]})
        blocks.append({"type": "section", "text": mrkdwn(_attempts_text(detail))})
    state = _state_line(detail)
    if state is not None:
        blocks.append({"type": "section", "text": mrkdwn(state)})
        return blocks
    if detail.snoozed:
        blocks.append({"type": "context", "elements": [
            mrkdwn(f":zzz: {inline(detail.snoozed, REASON_CHARS)}")]})
    if detail.level_note:
        blocks.append({"type": "context", "elements": [
            mrkdwn(f":arrow_up: {inline(detail.level_note, REASON_CHARS)}")]})
    if detail.recommendation is not None:
        blocks.append({"type": "section", "text": mrkdwn(
            recommendation_text(detail.recommendation))})
    blocks.extend(actions)
    return blocks


def recommendation_text(found: Recommendation) -> str:
    """The recommendation in words, with the numbers behind it."""
    path = " → ".join(level.value for level in found.path)
    return (f":point_right: *Recommended: {RECOMMENDED_WORDS[found.level]}.* "
            f"{plural(found.contacts, 'contact')} made (the {inline(found.segment, 60)} "
            f"strategy's maximum: {found.max_contacts}) and nobody is above this level; the "
            f"policy's path: {path}.")


def _fallback(detail: EscalationDetail) -> str:
    state = "" if detail.status is EscalationStatus.OPEN else " (closed)"
    return (f"Escalation{state}: {inline(detail.customer_name, NAME_CHARS)} "
            f"({inline(detail.external_ref, REF_CHARS)}), {money(detail.past_due)} past due: "
            f"{inline(detail.reason, 200)}")


def escalation_message(detail: EscalationDetail, *, actions: Sequence[Block] = ()) -> Message:
    """One escalation, one message: header, the account, the reasons, the last attempts."""
    blocks: list[Block] = [{"type": "header", "text": plain(_title(detail))}]
    blocks += escalation_blocks(detail, actions=actions)
    blocks.append({"type": "context", "elements": [mrkdwn(
        f"Escalation #{detail.escalation_id} · opened "
        f"{short_date(local_date(detail.opened_at, detail.zone))}")]})
    return Message(_fallback(detail), blocks)


@dataclass(frozen=True, slots=True)
class DigestTotals:
    """What a digest counts: all its escalations, the open ones, their past due."""

    count: int
    open_count: int
    past_due: Decimal


def escalation_digest(
    top: Sequence[EscalationDetail],
    totals: DigestTotals,
    *,
    actions_for: Callable[[EscalationDetail], Sequence[Block]] | None = None,
) -> Message:
    """Many escalations at once, one message: the top ones by past due (`top`, largest first)
    with their buttons, and a count of the rest (all of them are in the App Home)."""
    if not top:
        raise ValueError("a digest shows at least one escalation")
    blocks: list[Block] = [
        {"type": "header", "text": plain(f"{plural(totals.count, 'escalation')} to decide")},
        {"type": "section", "text": mrkdwn(
            f"{totals.open_count} open of {totals.count} · {money(totals.past_due)} past due in "
            "all. The largest first:")},
    ]
    for detail in top:
        blocks.append({"type": "divider"})
        actions = actions_for(detail) if actions_for is not None else ()
        blocks += escalation_blocks(detail, actions=actions, brief=True)
    rest = totals.count - len(top)
    if rest > 0:
        rest_due = totals.past_due - sum((d.past_due for d in top), Decimal("0.00"))
        blocks.append({"type": "divider"})
        blocks.append({"type": "context", "elements": [mrkdwn(
            f"…and {plural(rest, 'more escalation')} ({money(max(rest_due, Decimal(0)))} past "
            "due): all of them are in the App Home.")]})
    text = (f"{plural(totals.count, 'escalation')} to decide, {money(totals.past_due)} past due;"
            f" the largest: {inline(top[0].customer_name, NAME_CHARS)}")
    return Message(text, blocks)


def reminder_message(detail: EscalationDetail, *, days: int, next_holder: str | None) -> Message:
    """The one reminder, a reply in the escalation message's thread."""
    name = _account(detail)
    then = (f"If nobody decides within {plural(days, 'more working day')}, it goes to "
            f"{inline(next_holder, NAME_CHARS)}." if next_holder
            else "Nobody is above this level.")
    text = (f":alarm_clock: Reminder: {name} is still to decide, "
            f"{plural(days, 'working day')} after it reached you "
            f"({money(detail.past_due)} past due: {inline(detail.reason, 300)}). "
            f"Decide with the buttons above. {then}")
    return Message(_plain_text(text), [{"type": "section", "text": mrkdwn(text)}])


def digest_reminder_message(details: Sequence[EscalationDetail], *, days: int) -> Message:
    """One reminder for the escalations of a digest still to decide."""
    shown = details[:DIGEST_SHOWN]
    lines = "\n".join(f"• {_account(d)} · {money(d.past_due)} past due" for d in shown)
    rest = len(details) - len(shown)
    more = f"\n…and {plural(rest, 'more')} (all in the App Home)." if rest > 0 else ""
    text = (f":alarm_clock: Reminder: {plural(len(details), 'escalation')} here "
            f"{'is' if len(details) == 1 else 'are'} still to decide, "
            f"{plural(days, 'working day')} after they reached you. Decide with the buttons "
            f"above; if nobody does within {plural(days, 'more working day')}, they go up a "
            f"level.\n{lines}{more}")
    return Message(_plain_text(text.split("\n", 1)[0]), [
        {"type": "section", "text": mrkdwn(truncate(text, 3000))}])


def awake_message(detail: EscalationDetail, *, snoozed_until: date) -> Message:
    """The ping when a snooze ends and the escalation's cause is still there."""
    name = _account(detail)
    text = (f":alarm_clock: The snooze of {name} ended on {short_date(snoozed_until)} and it is "
            f"still escalated: {inline(detail.reason, 300)} ({money(detail.past_due)} past due)."
            " Decide with the buttons above.")
    return Message(_plain_text(text), [{"type": "section", "text": mrkdwn(text)}])


def _account(detail: EscalationDetail) -> str:
    return (f"*{inline(detail.customer_name, NAME_CHARS)}* "
            f"({inline(detail.external_ref, REF_CHARS)})")


def _plain_text(text: str) -> str:
    return truncate(text.replace("*", "").replace(":alarm_clock: ", ""), 3000)
