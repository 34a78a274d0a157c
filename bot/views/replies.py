"""What a person reads after an action: `/collect` answers, button and modal confirmations.

Pure builders over plain data. Every piece of ledger or user text goes through `inline` (one
line, truncated, escaped by `escape_mrkdwn`), so a customer named `<!here>` stays text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from bot.domain.accounts import AccountMatch, AccountSummary
from bot.domain.aging import BUCKETS
from bot.domain.calendar import local_date
from bot.domain.vocabulary import OUTCOME_LABELS, EscalationLevel, Outcome
from bot.slack.blockkit import MAX_BLOCKS_MESSAGE
from bot.views.call_list import CallListView, render_call_list
from bot.views.escalation_actions import decision_actions
from bot.views.home import CollectorProgress, MyStats, PeriodStats, progress_bar
from bot.views.modals import (
    DISPUTE_REASONS,
    CallbackInput,
    DisputeInput,
    NoteInput,
    PromiseInput,
)
from bot.views.text import Block, inline, mention, money, mrkdwn, plural, short_date

COMMAND = "/collect"
SOMETHING_WRONG = "Something went wrong; nothing was saved."
NAME_CHARS = 80
REF_CHARS = 30
PERSON_CHARS = 40
ECHO_CHARS = 60


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What the person sees (ephemeral): mrkdwn text, and blocks when there are any."""

    text: str
    blocks: list[Block] | None = None


@dataclass(frozen=True, slots=True)
class Subcommand:
    """What `/collect help` says about one subcommand."""

    name: str
    usage: str
    example: str
    summary: str
    managers_only: bool = False


SUBCOMMANDS: dict[str, Subcommand] = {
    s.name: s
    for s in (
        Subcommand("help", "help [SUBCOMMAND]", "help promise", "what each subcommand does"),
        Subcommand("list", "list", "list", "today's call list again, just for you"),
        Subcommand("log", "log ACCOUNT OUTCOME [note]", "log C-1001 voicemail left it with AP",
                   "record a call: reached, voicemail, no-answer, wrong-number, paid, callback, "
                   "refused"),
        Subcommand("promise", "promise ACCOUNT AMOUNT DATE", 'promise "Acme Corp" $1,200 friday',
                   "record a promise to pay (DATE: 2026-12-01, today, tomorrow, +3, friday)"),
        Subcommand("dispute", "dispute ACCOUNT REASON", "dispute C-1001 pricing wrong unit rate",
                   "open a dispute on the account's open invoices (REASON: pricing, quality, "
                   "not-received, duplicate, already-paid, or your own words)"),
        Subcommand("note", "note ACCOUNT TEXT", "note acme asked for a copy of INV-7",
                   "add a note to the account's history"),
        Subcommand("find", "find TEXT", "find acme", "accounts whose name or reference has TEXT"),
        Subcommand("account", "account ACCOUNT", "account C-1001",
                   "balance, aging, open promises and the last 10 attempts"),
        Subcommand("stats", "stats", "stats", "my calls today and this week against target"),
        Subcommand("goals", "goals", "goals",
                   "the team's objectives, their progress and the calls a day they need"),
        Subcommand("assign", "assign ACCOUNT @user", "assign C-1001 @alice",
                   "hand an account to a collector", managers_only=True),
        Subcommand("team", "team", "team", "today's calls per collector", managers_only=True),
        Subcommand("escalations", "escalations", "escalations", "open escalations",
                   managers_only=True),
    )
}


# --- what the services hand to these builders ------------------------------------------------


@dataclass(frozen=True, slots=True)
class AccountRef:
    """An account as a reply names it."""

    customer_id: int
    external_ref: str
    name: str


@dataclass(frozen=True, slots=True)
class Recorded:
    """An outcome recorded from a command, on which account."""

    account: AccountRef
    outcome: Outcome
    promise: PromiseInput | None = None
    dispute: DisputeInput | None = None


@dataclass(frozen=True, slots=True)
class TodaysList:
    """A person's list for their local today, or why there is none."""

    view: CallListView | None
    working_day: bool
    morning_time: time | None


@dataclass(frozen=True, slots=True)
class Assigned:
    """An account handed to a collector."""

    account: AccountRef
    collector_slack_id: str
    collector_name: str | None
    previous_collector_name: str | None


@dataclass(frozen=True, slots=True)
class EscalationLine:
    """One open escalation as `/collect escalations` lists it."""

    level: EscalationLevel
    account: AccountRef
    reason: str
    collector_name: str | None
    since: date
    escalation_id: int = 0  # 0: listed without its decision buttons
    snoozed_until: date | None = None


@dataclass(frozen=True, slots=True)
class OpenEscalations:
    lines: list[EscalationLine]
    more: bool


# --- help and usage ----------------------------------------------------------------------------


def usage_text(name: str) -> str:
    """One subcommand's usage line and example."""
    sub = SUBCOMMANDS[name]
    return f"Usage: `{COMMAND} {sub.usage}`\nExample: `{COMMAND} {sub.example}`"


def help_text(*, manager: bool, unknown: str | None = None, topic: str | None = None) -> str:
    """Every subcommand (manager ones only for managers), or one in detail."""
    if topic is not None:
        sub = SUBCOMMANDS[topic]
        return f"*{COMMAND} {sub.name}*: {sub.summary}\n{usage_text(topic)}"
    lines = [f"Unknown subcommand '{inline(unknown, 40)}'."] if unknown is not None else []
    lines.append(f"*{COMMAND}* subcommands:")
    lines.extend(
        f"• `{COMMAND} {sub.usage}` — {sub.summary}"
        for sub in SUBCOMMANDS.values() if not sub.managers_only
    )
    if manager:
        lines.append("*For managers:*")
        lines.extend(
            f"• `{COMMAND} {sub.usage}` — {sub.summary}"
            for sub in SUBCOMMANDS.values() if sub.managers_only
        )
    lines.append("ACCOUNT is a reference or the start of a name; quote names with spaces.")
    return "\n".join(lines)


def usage_reply(subcommand: str | None, problem: str) -> CommandReply:
    """A wrong argument: the problem, then that subcommand's usage (or the whole help)."""
    if subcommand is None or subcommand not in SUBCOMMANDS:
        return CommandReply(f"{problem}\n{help_text(manager=False)}")
    return CommandReply(f"{problem}\n{usage_text(subcommand)}")


# --- the subcommands' answers ------------------------------------------------------------------


def account_label(external_ref: str, name: str) -> str:
    """*Name* (REF), escaped and cut to one line."""
    return f"*{inline(name, NAME_CHARS)}* ({inline(external_ref, REF_CHARS)})"


def _label(account: AccountRef) -> str:
    return account_label(account.external_ref, account.name)


def recorded_reply(recorded: Recorded) -> CommandReply:
    """What `/collect log|promise|dispute|note` says once the outcome is saved."""
    label = _label(recorded.account)
    if recorded.promise is not None:
        promised = recorded.promise.promised_date
        return CommandReply(f"Recorded a promise of {money(recorded.promise.amount)} by "
                            f"{short_date(promised)} {promised.year} from {label}.")
    if recorded.dispute is not None:
        reason = dict(DISPUTE_REASONS)[recorded.dispute.reason]
        return CommandReply(f"Opened a dispute ({reason}) on {label}; its open invoices are off "
                            "the call lists until it is resolved.")
    if recorded.outcome is Outcome.NOTE:
        return CommandReply(f"Noted on {label}.")
    return CommandReply(f"Recorded *{OUTCOME_LABELS[recorded.outcome]}* on {label}.")


def list_reply(todays: TodaysList, *, now: datetime) -> CommandReply:
    """`/collect list`: the first message of today's list, within one message's blocks."""
    if todays.view is None:
        if not todays.working_day:
            return CommandReply("Today is not one of your working days, so there is no list.")
        when = (
            f"at {todays.morning_time:%H:%M} your time" if todays.morning_time
            else "in the morning"
        )
        return CommandReply(f"No call list for you today yet. Lists go out {when} on working days.")
    messages = render_call_list(todays.view, now=now)
    first = messages[0]
    if len(messages) == 1:
        return CommandReply(first.text, list(first.blocks))
    # Room for the closing note, cut at a row's start so no row loses its buttons.
    blocks = list(first.blocks[: MAX_BLOCKS_MESSAGE - 1])
    if blocks and _is_row_start(blocks[-1]) and not _is_row_start(first.blocks[len(blocks)]):
        blocks.pop()
    shown = sum(1 for block in blocks if _is_row_start(block))
    rest = len(todays.view.items) - shown
    blocks.append({"type": "context", "elements": [mrkdwn(
        f"…and {plural(rest, 'more call')}: your DM has the whole list."
    )]})
    return CommandReply(first.text, blocks)


def _is_row_start(block: Block) -> bool:
    return str(block.get("block_id", "")).startswith("row:")


def find_reply(matches: Sequence[AccountMatch], text: str) -> CommandReply:
    """`/collect find`: one line per account found."""
    if not matches:
        return CommandReply(
            f"No account has '{inline(text, ECHO_CHARS)}' in its name or reference."
        )
    return CommandReply("\n".join(
        f"• {inline(m.external_ref, REF_CHARS)} · {inline(m.name, NAME_CHARS)} · "
        f"{inline(m.collector_name or 'unassigned', PERSON_CHARS)}" for m in matches
    ))


def account_text(summary: AccountSummary, *, today: date, zone: ZoneInfo) -> str:
    """An account in a few lines: balances, aging, promises, last attempts (times in `zone`).

    What `/collect account` answers and what the Details menu of a list row shows.
    """
    s = summary
    age = f" ({plural(s.days_past_due, 'day')})" if s.days_past_due else ""
    lines = [
        f"{account_label(s.external_ref, s.name)} · "
        f"{inline(s.collector_name or 'unassigned', PERSON_CHARS)} · "
        f"{s.status.value.replace('_', ' ')}",
        f"Open {money(s.open_balance)} · past due {money(s.past_due)}{age} · "
        f"in dispute {money(s.disputed)}"
        + (f" · unapplied credit {money(s.unapplied_credit)}" if s.unapplied_credit else ""),
    ]
    aging = [f"{b.label} {money(s.aging[b])}" for b in BUCKETS if s.aging.get(b)]
    lines.append("Aging: " + (" · ".join(aging) if aging else "nothing open"))
    if s.snoozed_until is not None and s.snoozed_until > today:
        lines.append(f"Snoozed until {short_date(s.snoozed_until)}")
    lines.append("*Open promises*" if s.open_promises else "No open promises.")
    lines.extend(
        f"• {money(p.amount)} by {short_date(p.promised_date)}"
        + (f" ({money(p.amount_received)} received)" if p.amount_received else "")
        for p in s.open_promises
    )
    lines.append("*Last attempts*" if s.recent_attempts else "No attempts yet.")
    for a in s.recent_attempts:
        at = a.at.astimezone(zone)
        note = f" · {inline(a.note, NAME_CHARS)}" if a.note else ""
        by = inline(a.collector_name, PERSON_CHARS)
        lines.append(f"• {short_date(local_date(a.at, zone))} {at:%H:%M} · "
                     f"{OUTCOME_LABELS[a.outcome]} · {by}{note}")
    return "\n".join(lines)


def account_reply(summary: AccountSummary, *, today: date, zone: ZoneInfo) -> CommandReply:
    return CommandReply(account_text(summary, today=today, zone=zone))


def _period_line(title: str, period: PeriodStats) -> str:
    promised = f" ({money(period.promised)})" if period.promises else ""
    calls = (
        f"{progress_bar(period.calls, period.target)} {period.calls} of "
        f"{plural(period.target, 'call')}" if period.target else plural(period.calls, "call")
    )
    return (
        f"*{title}* {calls} · "
        f"{period.right_party} reached · {plural(period.promises, 'promise')}{promised}"
    )


def stats_reply(stats: MyStats) -> CommandReply:
    """`/collect stats`: today and this week against target."""
    week = f"This week ({short_date(stats.week.start)}–{short_date(stats.week.end)})"
    return CommandReply(f"{_period_line('Today', stats.day)}\n{_period_line(week, stats.week)}")


def assigned_reply(assigned: Assigned) -> CommandReply:
    """`/collect assign`: whose the account is now, and whose it was."""
    before = (
        f" (was {inline(assigned.previous_collector_name, PERSON_CHARS)})"
        if assigned.previous_collector_name else ""
    )
    who = mention(assigned.collector_slack_id, assigned.collector_name or "")
    return CommandReply(f"{_label(assigned.account)} is now {who}'s{before}.")


def team_reply(team: Sequence[CollectorProgress]) -> CommandReply:
    """`/collect team`: each collector's calls today against target."""
    if not team:
        return CommandReply("Nobody reports to you on the roster yet.")
    return CommandReply("*Today*\n" + "\n".join(
        f"• {mention(p.slack_id, p.name)} {progress_bar(p.done, p.target)} {p.done}/{p.target}"
        for p in team
    ))


def escalations_reply(open_escalations: OpenEscalations) -> CommandReply:
    """`/collect escalations`: one line per open escalation, oldest first."""
    if not open_escalations.lines:
        return CommandReply("No open escalations.")
    lines = ["*Open escalations*"]
    lines.extend(_escalation_line(e) for e in open_escalations.lines)
    more = "…and more; the App Home lists them all."
    if open_escalations.more:
        lines.append(more)
    blocks: list[Block] = [{"type": "section", "text": mrkdwn("*Open escalations*")}]
    for line in open_escalations.lines:
        blocks.append({"type": "section", "text": mrkdwn(_escalation_line(line))})
        if line.escalation_id:
            blocks.extend(decision_actions(line.escalation_id, customer_name=line.account.name))
    if open_escalations.more:
        blocks.append({"type": "context", "elements": [mrkdwn(more)]})
    return CommandReply("\n".join(lines), blocks)


def _escalation_line(e: EscalationLine) -> str:
    snoozed = f" · :zzz: until {short_date(e.snoozed_until)}" if e.snoozed_until else ""
    return (f"• {e.level.value} · {_label(e.account)} · {inline(e.reason, 120)} · "
            f"{inline(e.collector_name or 'unassigned', PERSON_CHARS)} · since "
            f"{short_date(e.since)}{snoozed}")


# --- buttons and modals ------------------------------------------------------------------------


def snoozed_text(name: str, until: date) -> str:
    """What a saved Snooze form says."""
    return (f"Snoozed {inline(name, NAME_CHARS)} until {short_date(until)}: it stays off your "
            "lists until then.")


def saved_form_text(
    name: str, details: PromiseInput | DisputeInput | CallbackInput | NoteInput
) -> str:
    """What a saved Promise, Dispute, Callback or Note form says."""
    who = inline(name, NAME_CHARS)
    if isinstance(details, PromiseInput):
        return (f"Promise to pay recorded for {who}: {money(details.amount)}"
                f" by {short_date(details.promised_date)}.")
    if isinstance(details, DisputeInput):
        invoices = plural(len(details.invoice_ids), "invoice")
        reason = dict(DISPUTE_REASONS).get(details.reason, details.reason)
        return f"Dispute recorded for {who} ({reason}, {invoices})."
    if isinstance(details, CallbackInput):
        return f"Callback recorded for {who}."
    return f"Note saved on {who}."
