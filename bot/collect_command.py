"""`/collect`: the slash command's subcommands, parsed purely, then run in one unit of work.

`parse_collect(text)` turns the text Slack sends into a typed command or a UsageError (no
database, no clock). `run_collect(...)` resolves the person and the account, calls a service,
commits, and always answers with a reply: a ServiceError becomes its message, a usage mistake
the subcommand's usage line and example, anything unexpected a logged error and a generic line.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.db import Database
from bot.db.models import CallListEntry, Customer, TeamMember
from bot.db.uow import UnitOfWork
from bot.domain.aging import BUCKETS
from bot.domain.calendar import local_date
from bot.domain.vocabulary import OUTCOME_LABELS, Outcome, Role
from bot.services import roster
from bot.services.accounts import account_summary, find_accounts, resolve_account
from bot.services.call_lists import (
    call_list_view,
    refresh_call_list_messages,
    todays_call_list_for,
)
from bot.services.errors import InvalidInput, NotFound, ServiceError
from bot.services.outcomes import assign, record_outcome
from bot.services.stats import PeriodStats, my_stats, team_progress
from bot.slack.client import SlackGateway
from bot.views.call_list import render_call_list
from bot.views.home import progress_bar
from bot.views.modals import DISPUTE_REASONS, DisputeInput, PromiseInput, parse_amount
from bot.views.text import Block, inline, mention, money, plural, short_date

logger = logging.getLogger(__name__)

COMMAND = "/collect"
SOMETHING_WRONG = "Something went wrong, nothing was saved."
MAX_LINES = 20
MAX_OFFSET_DAYS = 3650
TEXT_CHARS = 3000
NAME_CHARS = 80


# --- the subcommands ---------------------------------------------------------------------------


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
        Subcommand("assign", "assign ACCOUNT @user", "assign C-1001 @alice",
                   "hand an account to a collector", managers_only=True),
        Subcommand("team", "team", "team", "today's calls per collector", managers_only=True),
        Subcommand("escalations", "escalations", "escalations", "open escalations",
                   managers_only=True),
    )
}

OUTCOME_ALIASES: dict[str, Outcome] = {
    **{o.value: o for o in Outcome},
    "reach": Outcome.REACHED, "spoke": Outcome.REACHED, "contact": Outcome.REACHED,
    "talked": Outcome.REACHED, "voicemail": Outcome.LEFT_VOICEMAIL, "vm": Outcome.LEFT_VOICEMAIL,
    "lvm": Outcome.LEFT_VOICEMAIL, "message": Outcome.LEFT_VOICEMAIL,
    "noanswer": Outcome.NO_ANSWER, "na": Outcome.NO_ANSWER, "nobody": Outcome.NO_ANSWER,
    "wrong": Outcome.WRONG_NUMBER, "wrongnumber": Outcome.WRONG_NUMBER,
    "wn": Outcome.WRONG_NUMBER, "promise": Outcome.PROMISE_TO_PAY, "ptp": Outcome.PROMISE_TO_PAY,
    "promised": Outcome.PROMISE_TO_PAY, "disputed": Outcome.DISPUTE,
    "callback": Outcome.CALLBACK_REQUESTED, "cb": Outcome.CALLBACK_REQUESTED,
    "refusal": Outcome.REFUSED, "refuse": Outcome.REFUSED,
}
DISPUTE_ALIASES: dict[str, str] = {
    **{key: key for key, _ in DISPUTE_REASONS},
    "price": "pricing", "duplicate": "duplicate_billing", "double_billed": "duplicate_billing",
    "paid": "already_paid", "never_received": "not_received", "missing": "not_received",
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# --- parsed commands ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UsageError:
    """A wrong or missing argument: the problem, shown with that subcommand's usage."""

    subcommand: str | None
    problem: str


@dataclass(frozen=True, slots=True)
class DateSpec:
    """A DATE argument as typed; resolved against the person's local today when run."""

    kind: Literal["date", "offset", "weekday"]
    value: int | date
    text: str

    def resolve(self, today: date) -> date:
        if isinstance(self.value, date):
            return self.value
        if self.kind == "offset":
            return today + timedelta(days=self.value)
        # A weekday name is the next such day after today (today itself is "today").
        ahead = (self.value - today.weekday() - 1) % 7 + 1
        return today + timedelta(days=ahead)


@dataclass(frozen=True, slots=True)
class Help:
    topic: str | None = None
    unknown: str | None = None


@dataclass(frozen=True, slots=True)
class ShowList:
    pass


@dataclass(frozen=True, slots=True)
class Log:
    account: str
    outcome: Outcome
    note: str | None


@dataclass(frozen=True, slots=True)
class Promise:
    account: str
    amount: Decimal
    date: DateSpec


@dataclass(frozen=True, slots=True)
class DisputeCmd:
    account: str
    reason: str
    note: str | None


@dataclass(frozen=True, slots=True)
class Note:
    account: str
    text: str


@dataclass(frozen=True, slots=True)
class Find:
    text: str


@dataclass(frozen=True, slots=True)
class Account:
    account: str


@dataclass(frozen=True, slots=True)
class Stats:
    pass


@dataclass(frozen=True, slots=True)
class Assign:
    account: str
    collector: str  # a Slack user id, or a roster name when `by_name`
    by_name: bool = False


@dataclass(frozen=True, slots=True)
class Team:
    pass


@dataclass(frozen=True, slots=True)
class Escalations:
    pass


CollectCommand = (
    Help | ShowList | Log | Promise | DisputeCmd | Note | Find | Account | Stats | Assign | Team
    | Escalations
)


@dataclass(frozen=True, slots=True)
class CommandReply:
    """What the person sees (ephemeral): mrkdwn text, and blocks when there are any."""

    text: str
    blocks: list[Block] | None = None


# --- parsing -----------------------------------------------------------------------------------

_QUOTES = {'"': '"', "\u201c": "\u201d", "\u201e": "\u201d", "\u201d": "\u201d"}
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})(?:\|[^>]*)?>")
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_OFFSET = re.compile(r"\+([0-9]{1,5})d?")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# Control characters other than newline and tab never belong in a note (PostgreSQL refuses NUL).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    end: int  # index in the text just after the token


def _unescape(text: str) -> str:
    # Slack escapes these three in slash command text.
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _clean(text: str) -> str:
    return _CONTROL.sub(" ", _unescape(text)).strip()


def _next_token(text: str, start: int) -> _Token | str | None:
    """The next word or quoted phrase from `start`; a str is a problem; None at the end."""
    i = start
    while i < len(text) and text[i].isspace():
        i += 1
    if i >= len(text):
        return None
    closing = _QUOTES.get(text[i])
    if closing is not None:
        end = text.find(closing, i + 1)
        if closing == '"' and end < 0:
            end = text.find("\u201d", i + 1)
        if end < 0:
            return "A quote is not closed."
        return _Token(text[i + 1 : end], end + 1)
    end = i
    while end < len(text) and not text[end].isspace():
        end += 1
    return _Token(text[i:end], end)


class _Args:
    """The words after the subcommand, taken one at a time or as the rest of the line."""

    def __init__(self, text: str, start: int, subcommand: str) -> None:
        self.text = text
        self.pos = start
        self.subcommand = subcommand

    def word(self, what: str) -> str | UsageError:
        token = _next_token(self.text, self.pos)
        if isinstance(token, str):
            return UsageError(self.subcommand, token)
        if token is None or not token.value.strip():
            return UsageError(self.subcommand, f"Missing {what}.")
        self.pos = token.end
        return _clean(token.value)

    def raw_word(self) -> str | None:
        token = _next_token(self.text, self.pos)
        if token is None or isinstance(token, str):
            return None
        self.pos = token.end
        return token.value

    def rest(self) -> str:
        rest = _clean(self.text[self.pos :])
        self.pos = len(self.text)
        return rest

    def done(self) -> UsageError | None:
        extra = self.text[self.pos :].strip()
        if extra:
            shown = inline(_unescape(extra), 40)
            return UsageError(self.subcommand, f"Unexpected '{shown}'.")
        return None


def parse_outcome(text: str) -> Outcome | None:
    """An outcome value, label or alias ("vm", "no-answer", "ptp"), or None."""
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    return OUTCOME_ALIASES.get(key) or OUTCOME_ALIASES.get(key.replace("_", ""))


def parse_date(text: str) -> DateSpec | str:
    """A DATE argument, or the problem with it."""
    word = text.strip().lower()
    if word in ("today", "tod"):
        return DateSpec("offset", 0, word)
    if word in ("tomorrow", "tmrw", "tmr"):
        return DateSpec("offset", 1, word)
    match = _OFFSET.fullmatch(word)
    if match:
        days = int(match[1])
        if days > MAX_OFFSET_DAYS:
            return f"{word} is too far ahead."
        return DateSpec("offset", days, word)
    if _ISO_DATE.fullmatch(word):
        try:
            return DateSpec("date", date.fromisoformat(word), word)
        except ValueError:
            return f"{word} is not a real date."
    if len(word) >= 3:
        for number, name in enumerate(WEEKDAYS):
            if name.startswith(word):
                return DateSpec("weekday", number, word)
    return f"'{inline(text, 30)}' is not a date: use YYYY-MM-DD, today, tomorrow, +3 or a weekday."


def parse_dispute_reason(text: str) -> tuple[str, str | None]:
    """(reason key, note): a known first word is the reason, else "other" with all as note."""
    first, _, rest = text.strip().partition(" ")
    key = DISPUTE_ALIASES.get(re.sub(r"[\s\-]+", "_", first.lower()))
    if key is None:
        return "other", text.strip()
    return key, rest.strip() or None


def _account_and(args: _Args) -> str | UsageError:
    return args.word("ACCOUNT (a reference like C-1001 or the start of a name)")


def _parse_log(args: _Args) -> CollectCommand | UsageError:
    account = _account_and(args)
    if isinstance(account, UsageError):
        return account
    word = args.word("OUTCOME")
    if isinstance(word, UsageError):
        return word
    outcome = parse_outcome(word)
    if outcome is None:
        return UsageError("log", f"'{inline(word, 30)}' is not an outcome.")
    if outcome is Outcome.PROMISE_TO_PAY:
        return UsageError("promise", "A promise needs an amount and a date.")
    if outcome is Outcome.DISPUTE:
        return UsageError("dispute", "A dispute needs a reason.")
    note = args.rest()[:TEXT_CHARS + 1] or None
    if outcome is Outcome.NOTE and note is None:
        return UsageError("note", "Missing TEXT.")
    return Log(account, outcome, note)


def _parse_promise(args: _Args) -> CollectCommand | UsageError:
    account = _account_and(args)
    if isinstance(account, UsageError):
        return account
    raw_amount = args.word("AMOUNT")
    if isinstance(raw_amount, UsageError):
        return raw_amount
    try:
        amount = parse_amount(raw_amount)
    except ValueError as error:
        return UsageError("promise", str(error))
    raw_date = args.word("DATE")
    if isinstance(raw_date, UsageError):
        return raw_date
    when = parse_date(raw_date)
    if isinstance(when, str):
        return UsageError("promise", when)
    return args.done() or Promise(account, amount, when)


def _parse_dispute(args: _Args) -> CollectCommand | UsageError:
    account = _account_and(args)
    if isinstance(account, UsageError):
        return account
    text = args.rest()
    if not text:
        return UsageError("dispute", "Missing REASON.")
    reason, note = parse_dispute_reason(text[:TEXT_CHARS + 1])
    return DisputeCmd(account, reason, note)


def _parse_note(args: _Args) -> CollectCommand | UsageError:
    account = _account_and(args)
    if isinstance(account, UsageError):
        return account
    text = args.rest()
    return Note(account, text[:TEXT_CHARS + 1]) if text else UsageError("note", "Missing TEXT.")


def _parse_find(args: _Args) -> CollectCommand | UsageError:
    text = args.rest()
    return Find(text[:200]) if text else UsageError("find", "Missing TEXT to look for.")


def _parse_account(args: _Args) -> CollectCommand | UsageError:
    # The account is the only argument, so an unquoted name with spaces is fine here.
    if args.text[args.pos :].lstrip()[:1] in _QUOTES:
        account = _account_and(args)
        if isinstance(account, UsageError):
            return account
        return args.done() or Account(account)
    rest = args.rest()
    return Account(rest[:200]) if rest else UsageError("account", "Missing ACCOUNT.")


def _parse_assign(args: _Args) -> CollectCommand | UsageError:
    account = _account_and(args)
    if isinstance(account, UsageError):
        return account
    raw = args.raw_word()
    if raw is None:
        return UsageError("assign", "Missing @user: mention the collector.")
    extra = args.done()
    if extra is not None:
        return extra
    mentioned = _MENTION.fullmatch(raw)
    if mentioned:
        return Assign(account, mentioned[1])
    if _USER_ID.fullmatch(raw):
        return Assign(account, raw)
    name = _clean(raw).removeprefix("@").strip()
    if not name or name.startswith("<"):
        return UsageError("assign", "Mention the collector, like @alice.")
    return Assign(account, name, by_name=True)


def _parse_help(args: _Args) -> CollectCommand | UsageError:
    topic = args.raw_word()
    if topic is None:
        return Help()
    name = _clean(topic).lower()
    return Help(topic=name) if name in SUBCOMMANDS else Help(unknown=name[:40])


def _no_arguments(command: CollectCommand) -> Callable[[_Args], CollectCommand | UsageError]:
    return lambda args: args.done() or command


_PARSERS: dict[str, Callable[[_Args], CollectCommand | UsageError]] = {
    "help": _parse_help,
    "list": _no_arguments(ShowList()),
    "log": _parse_log,
    "promise": _parse_promise,
    "dispute": _parse_dispute,
    "note": _parse_note,
    "find": _parse_find,
    "account": _parse_account,
    "stats": _no_arguments(Stats()),
    "assign": _parse_assign,
    "team": _no_arguments(Team()),
    "escalations": _no_arguments(Escalations()),
}


def parse_collect(text: str) -> CollectCommand | UsageError:
    """The subcommand and its arguments from the text after `/collect` (pure)."""
    first = _next_token(text, 0)
    if first is None or isinstance(first, str) or not first.value.strip():
        return Help()
    name = _clean(first.value).lower()
    parser = _PARSERS.get(name)
    if parser is None:
        return Help(unknown=name[:40])
    return parser(_Args(text, first.end, name))


# --- replies -----------------------------------------------------------------------------------


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
    for sub in SUBCOMMANDS.values():
        if sub.managers_only:
            continue
        lines.append(f"• `{COMMAND} {sub.usage}` — {sub.summary}")
    if manager:
        lines.append("*For managers:*")
        lines.extend(
            f"• `{COMMAND} {sub.usage}` — {sub.summary}"
            for sub in SUBCOMMANDS.values() if sub.managers_only
        )
    lines.append("ACCOUNT is a reference or the start of a name; quote names with spaces.")
    return "\n".join(lines)


def _usage_reply(error: UsageError) -> CommandReply:
    if error.subcommand is None or error.subcommand not in SUBCOMMANDS:
        return CommandReply(f"{error.problem}\n{help_text(manager=False)}")
    return CommandReply(f"{error.problem}\n{usage_text(error.subcommand)}")


def _label(customer: Customer) -> str:
    return f"*{inline(customer.name, NAME_CHARS)}* ({inline(customer.external_ref, 30)})"


def _more(lines: list[str], total: int) -> list[str]:
    if total > len(lines):
        lines.append(f"…and {total - len(lines)} more")
    return lines


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


# --- running -----------------------------------------------------------------------------------


@dataclass
class _Run:
    """One /collect invocation inside its unit of work."""

    session: Session
    member: TeamMember
    zone: ZoneInfo
    now: datetime
    default_tz: str | ZoneInfo
    refresh_list_id: int | None = None

    @property
    def today(self) -> date:
        return local_date(self.now, self.zone)

    def note_change(self, customer: Customer) -> None:
        """Remember the account's list of today, so its DM is re-rendered after the commit."""
        collector = customer.collector
        if collector is None:
            return
        call_list = todays_call_list_for(
            self.session, collector, now=self.now,
            tz=roster.member_zone(collector, self.default_tz),
        )
        if call_list is None:
            return
        on_list = self.session.scalar(
            select(func.count()).select_from(CallListEntry).where(
                CallListEntry.call_list_id == call_list.id,
                CallListEntry.customer_id == customer.id,
            )
        )
        if on_list:
            self.refresh_list_id = call_list.id


def _record(
    run: _Run, uow: UnitOfWork, customer: Customer, outcome: Outcome, **details: Any
) -> None:
    record_outcome(
        uow, actor_slack_id=run.member.slack_user_id, customer_id=customer.id, outcome=outcome,
        source="command", now=run.now, default_tz=run.default_tz, **details,
    )
    run.note_change(customer)


def _show_list(run: _Run) -> CommandReply:
    call_list = todays_call_list_for(run.session, run.member, now=run.now, tz=run.zone)
    if call_list is None:
        if run.today.isoweekday() not in run.member.weekdays:
            return CommandReply("Today is not one of your working days, so there is no list.")
        when = (
            f"at {run.member.morning_time:%H:%M} your time"
            if run.member.morning_time else "in the morning"
        )
        return CommandReply(
            f"No call list for you today yet. Lists go out {when} on working days."
        )
    view = call_list_view(run.session, call_list.id, now=run.now)
    messages = render_call_list(view, now=run.now)
    first = messages[0]
    blocks = list(first.blocks)
    if len(messages) > 1:
        blocks.append({"type": "context", "elements": [
            {"type": "mrkdwn", "text": "…the rest of the list is in your DM."}]})
    return CommandReply(first.text, blocks)


def _account_reply(run: _Run, customer: Customer) -> CommandReply:
    s = account_summary(run.session, customer.id, today=run.today)
    age = f" ({plural(s.days_past_due, 'day')})" if s.days_past_due else ""
    lines = [
        f"{_label(customer)} · {inline(s.collector_name or 'unassigned', 40)} · "
        f"{s.status.value.replace('_', ' ')}",
        f"Open {money(s.open_balance)} · past due {money(s.past_due)}{age} · "
        f"in dispute {money(s.disputed)}",
    ]
    aging = [f"{b.label} {money(s.aging[b])}" for b in BUCKETS if s.aging.get(b)]
    lines.append("Aging: " + (" · ".join(aging) if aging else "nothing open"))
    if s.snoozed_until is not None and s.snoozed_until > run.today:
        lines.append(f"Snoozed until {short_date(s.snoozed_until)}")
    lines.append("*Open promises*" if s.open_promises else "No open promises.")
    lines.extend(
        f"• {money(p.amount)} by {short_date(p.promised_date)}"
        + (f" ({money(p.amount_received)} received)" if p.amount_received else "")
        for p in s.open_promises
    )
    lines.append("*Last attempts*" if s.recent_attempts else "No attempts yet.")
    for a in s.recent_attempts:
        at = a.at.astimezone(run.zone)
        note = f" · {inline(a.note, 80)}" if a.note else ""
        lines.append(f"• {short_date(at.date())} {at:%H:%M} · {OUTCOME_LABELS[a.outcome]} · "
                     f"{inline(a.collector_name, 40)}{note}")
    return CommandReply("\n".join(lines))


def _collector_by_name(session: Session, name: str) -> str:
    wanted = name.lower()
    members = session.scalars(
        select(TeamMember).where(TeamMember.active.is_(True), TeamMember.role == Role.COLLECTOR)
    ).all()
    exact = [m for m in members if m.name.lower() == wanted]
    first = [m for m in members if m.name.lower().split(" ")[0] == wanted]
    found = exact or first
    if len(found) != 1:
        raise NotFound(f"Mention the collector (@name) so Slack sends who it is; "
                       f"'{inline(name, 40)}' names {len(found)} collectors.")
    return found[0].slack_user_id


def _escalations(run: _Run) -> CommandReply:
    rows = run.session.execute(
        roster.open_escalations_for(run.member).limit(MAX_LINES + 1)
    ).all()
    if not rows:
        return CommandReply("No open escalations.")
    lines = ["*Open escalations*"]
    for escalation, customer, collector_name in rows[:MAX_LINES]:
        lines.append(
            f"• {escalation.level.value} · {_label(customer)} · "
            f"{inline(escalation.reason, 120)} · {inline(collector_name or 'unassigned', 40)} · "
            f"since {short_date(escalation.created_at.astimezone(run.zone).date())}"
        )
    if len(rows) > MAX_LINES:
        lines.append("…and more; the App Home lists them all.")
    return CommandReply("\n".join(lines))


def _execute(run: _Run, uow: UnitOfWork, command: CollectCommand) -> CommandReply:
    """The reply to one parsed command; writes go into `uow`, committed by the caller."""
    member = run.member
    if isinstance(command, (Assign, Team, Escalations)):
        roster.require_manager(member)
    match command:
        case ShowList():
            return _show_list(run)
        case Log(account=account, outcome=outcome, note=note):
            customer = resolve_account(run.session, account)
            _record(run, uow, customer, outcome, note=note)
            return CommandReply(f"Recorded *{OUTCOME_LABELS[outcome]}* on {_label(customer)}.")
        case Promise(account=account, amount=amount, date=when):
            customer = resolve_account(run.session, account)
            promised = when.resolve(run.today)
            _record(run, uow, customer, Outcome.PROMISE_TO_PAY,
                    promise=PromiseInput(amount, promised))
            return CommandReply(f"Recorded a promise of {money(amount)} by "
                                f"{short_date(promised)} {promised.year} from {_label(customer)}.")
        case DisputeCmd(account=account, reason=reason, note=note):
            customer = resolve_account(run.session, account)
            _record(run, uow, customer, Outcome.DISPUTE,
                    dispute=DisputeInput(reason, (), note))
            label = dict(DISPUTE_REASONS)[reason]
            return CommandReply(f"Opened a dispute ({label}) on {_label(customer)}; its open "
                                "invoices are off the call lists until it is resolved.")
        case Note(account=account, text=text):
            customer = resolve_account(run.session, account)
            _record(run, uow, customer, Outcome.NOTE, note=text)
            return CommandReply(f"Noted on {_label(customer)}.")
        case Find(text=text):
            found = find_accounts(run.session, text, limit=MAX_LINES)
            if not found:
                return CommandReply(f"No account has '{inline(text, 60)}' in its name or "
                                    "reference.")
            lines = [f"• {inline(m.external_ref, 30)} · {inline(m.name, NAME_CHARS)} · "
                     f"{inline(m.collector_name or 'unassigned', 40)}" for m in found]
            return CommandReply("\n".join(lines))
        case Account(account=account):
            return _account_reply(run, resolve_account(run.session, account))
        case Stats():
            stats = my_stats(run.session, member, now=run.now, default_tz=run.default_tz)
            week = f"This week ({short_date(stats.week.start)}–{short_date(stats.week.end)})"
            return CommandReply(f"{_period_line('Today', stats.day)}\n"
                                f"{_period_line(week, stats.week)}")
        case Assign(account=account, collector=collector, by_name=by_name):
            customer = resolve_account(run.session, account)
            slack_id = _collector_by_name(run.session, collector) if by_name else collector
            change = assign(uow, actor_slack_id=member.slack_user_id, customer_id=customer.id,
                            collector_slack_id=slack_id, now=run.now)
            before = f" (was {inline(change.previous_collector_name, 40)})" if (
                change.previous_collector_name) else ""
            return CommandReply(f"{_label(customer)} is now "
                                f"{mention(slack_id, change.collector_name or '')}'s{before}.")
        case Team():
            team = team_progress(run.session, member, now=run.now, default_tz=run.default_tz)
            if not team:
                return CommandReply("Nobody reports to you on the roster yet.")
            return CommandReply("*Today*\n" + "\n".join(
                f"• {mention(p.slack_id, p.name)} {progress_bar(p.done, p.target)} "
                f"{p.done}/{p.target}" for p in team
            ))
        case Escalations():
            return _escalations(run)
    raise AssertionError(f"unhandled command {command!r}")


def run_collect(
    database: Database,
    *,
    user_id: str,
    text: str,
    now: datetime,
    default_tz: str | ZoneInfo,
    gateway: SlackGateway | None = None,
) -> CommandReply:
    """Run `/collect text` for a Slack user in one unit of work; never raises for user mistakes."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    command = parse_collect(text)
    if isinstance(command, UsageError):
        return _usage_reply(command)
    refresh: int | None = None
    if isinstance(command, Help):
        with database.uow() as uow:
            known = uow.session.scalar(
                select(TeamMember).where(TeamMember.slack_user_id == user_id,
                                         TeamMember.active.is_(True))
            )
            manager = known is not None and roster.is_manager(known)
        return CommandReply(help_text(manager=manager, unknown=command.unknown,
                                      topic=command.topic))
    try:
        with database.uow() as uow:
            member = roster.member_for(uow.session, user_id)
            run = _Run(uow.session, member, roster.member_zone(member, default_tz), now,
                       default_tz)
            reply = _execute(run, uow, command)
            uow.commit()
            refresh = run.refresh_list_id
    except ServiceError as error:
        if isinstance(error, InvalidInput) and isinstance(command, Promise):
            return CommandReply(f"{error.message}\n{usage_text('promise')}")
        return CommandReply(error.message)
    except Exception:
        logger.exception("/collect %s by %s failed", type(command).__name__, user_id)
        return CommandReply(SOMETHING_WRONG)
    if refresh is not None and gateway is not None:
        try:
            refresh_call_list_messages(database, gateway, refresh, now=now)
        except Exception:
            # Committed already; the list catches up on the next refresh.
            logger.exception("call list %s not refreshed after /collect", refresh)
    return reply
