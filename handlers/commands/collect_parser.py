"""`/collect`'s text parsed into a typed command: pure (no database, no clock, no Slack).

`parse_collect(text)` returns one of the command types below or a UsageError. Adding a
subcommand: one entry in `_PARSERS` here (and its help in `bot.views.replies.SUBCOMMANDS`), one
service function in `bot.services.commands`, one reply builder in `bot.views.replies`, and one
line in the dispatch table of `handlers.commands.collect`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from bot.domain.vocabulary import Outcome
from bot.views.modals import DISPUTE_REASONS, parse_amount
from bot.views.replies import SUBCOMMANDS
from bot.views.text import inline

MAX_OFFSET_DAYS = 3650
# Text arguments are kept one character past the limit the services enforce, so a note that is
# too long is refused with a message rather than cut silently.
TEXT_CHARS = 3000

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


@dataclass(frozen=True, slots=True)
class Goals:
    pass


CollectCommand = (
    Help | ShowList | Log | Promise | DisputeCmd | Note | Find | Account | Stats | Assign | Team
    | Escalations | Goals
)


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


class _Refused(Exception):
    """A usage mistake found while taking arguments; parse_collect answers with it."""

    def __init__(self, error: UsageError) -> None:
        super().__init__(error.problem)
        self.error = error


class _Args:
    """The words after the subcommand, taken one at a time or as the rest of the line."""

    def __init__(self, text: str, start: int, subcommand: str) -> None:
        self.text = text
        self.pos = start
        self.subcommand = subcommand

    def refuse(self, problem: str, subcommand: str | None = None) -> _Refused:
        return _Refused(UsageError(subcommand or self.subcommand, problem))

    def word(self, what: str) -> str:
        token = _next_token(self.text, self.pos)
        if isinstance(token, str):
            raise self.refuse(token)
        if token is None or not token.value.strip():
            raise self.refuse(f"Missing {what}.")
        self.pos = token.end
        return _clean(token.value)

    def account(self) -> str:
        return self.word("ACCOUNT (a reference like C-1001 or the start of a name)")

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

    def text_rest(self, missing: str) -> str:
        """The rest of the line, kept one character past the limit; refused when empty."""
        rest = self.rest()
        if not rest:
            raise self.refuse(missing)
        return rest[: TEXT_CHARS + 1]

    def done(self) -> None:
        extra = self.text[self.pos :].strip()
        if extra:
            raise self.refuse(f"Unexpected '{inline(_unescape(extra), 40)}'.")


def parse_outcome(text: str) -> Outcome | None:
    """An outcome value, label or alias ("vm", "no-answer", "ptp"), or None."""
    key = re.sub(r"[\s\-]+", "_", text.strip().lower())
    return OUTCOME_ALIASES.get(key) or OUTCOME_ALIASES.get(key.replace("_", ""))


_DAY_WORDS = {"today": 0, "tod": 0, "tomorrow": 1, "tmrw": 1, "tmr": 1}


def parse_date(text: str) -> DateSpec | str:
    """A DATE argument, or the problem with it."""
    word = text.strip().lower()
    match = _OFFSET.fullmatch(word)
    if word in _DAY_WORDS or match:
        days = _DAY_WORDS[word] if word in _DAY_WORDS else int(match[1]) if match else 0
        if days > MAX_OFFSET_DAYS:
            return f"{word} is too far ahead."
        return DateSpec("offset", days, word)
    if _ISO_DATE.fullmatch(word):
        try:
            return DateSpec("date", date.fromisoformat(word), word)
        except ValueError:
            return f"{word} is not a real date."
    weekday = next(
        (n for n, name in enumerate(WEEKDAYS) if len(word) >= 3 and name.startswith(word)), None
    )
    if weekday is not None:
        return DateSpec("weekday", weekday, word)
    return f"'{inline(text, 30)}' is not a date: use YYYY-MM-DD, today, tomorrow, +3 or a weekday."


def parse_dispute_reason(text: str) -> tuple[str, str | None]:
    """(reason key, note): a known first word is the reason, else "other" with all as note."""
    first, _, rest = text.strip().partition(" ")
    key = DISPUTE_ALIASES.get(re.sub(r"[\s\-]+", "_", first.lower()))
    if key is None:
        return "other", text.strip()
    return key, rest.strip() or None


def _parse_log(args: _Args) -> CollectCommand:
    account = args.account()
    word = args.word("OUTCOME")
    outcome = parse_outcome(word)
    if outcome is None:
        raise args.refuse(f"'{inline(word, 30)}' is not an outcome.")
    if outcome is Outcome.PROMISE_TO_PAY:
        raise args.refuse("A promise needs an amount and a date.", "promise")
    if outcome is Outcome.DISPUTE:
        raise args.refuse("A dispute needs a reason.", "dispute")
    note = args.rest()[: TEXT_CHARS + 1] or None
    if outcome is Outcome.NOTE and note is None:
        raise args.refuse("Missing TEXT.", "note")
    return Log(account, outcome, note)


def _parse_promise(args: _Args) -> CollectCommand:
    account = args.account()
    raw_amount = args.word("AMOUNT")
    try:
        amount = parse_amount(raw_amount)
    except ValueError as error:
        raise args.refuse(str(error)) from None
    when = parse_date(args.word("DATE"))
    if isinstance(when, str):
        raise args.refuse(when)
    args.done()
    return Promise(account, amount, when)


def _parse_dispute(args: _Args) -> CollectCommand:
    account = args.account()
    text = args.rest()
    if not text:
        raise args.refuse("Missing REASON.")
    # The reason first, then the note cut one past the limit: a long note is refused, not cut.
    reason, note = parse_dispute_reason(text)
    return DisputeCmd(account, reason, note[: TEXT_CHARS + 1] if note else None)


def _parse_note(args: _Args) -> CollectCommand:
    account = args.account()
    return Note(account, args.text_rest("Missing TEXT."))


def _parse_find(args: _Args) -> CollectCommand:
    return Find(args.text_rest("Missing TEXT to look for.")[:200])


def _parse_account(args: _Args) -> CollectCommand:
    # The account is the only argument, so an unquoted name with spaces is fine here.
    if args.text[args.pos :].lstrip()[:1] in _QUOTES:
        account = args.account()
        args.done()
        return Account(account)
    return Account(args.text_rest("Missing ACCOUNT.")[:200])


def _parse_assign(args: _Args) -> CollectCommand:
    account = args.account()
    raw = args.raw_word()
    if raw is None:
        raise args.refuse("Missing @user: mention the collector.")
    args.done()
    mentioned = _MENTION.fullmatch(raw)
    if mentioned or _USER_ID.fullmatch(raw):
        return Assign(account, mentioned[1] if mentioned else raw)
    name = _clean(raw).removeprefix("@").strip()
    if not name or name.startswith("<"):
        raise args.refuse("Mention the collector, like @alice.")
    return Assign(account, name, by_name=True)


def _parse_help(args: _Args) -> CollectCommand:
    topic = args.raw_word()
    if topic is None:
        return Help()
    name = _clean(topic).lower()
    return Help(topic=name) if name in SUBCOMMANDS else Help(unknown=name[:40])


def _no_arguments(command: CollectCommand) -> Callable[[_Args], CollectCommand]:
    def parse(args: _Args) -> CollectCommand:
        args.done()
        return command

    return parse


_PARSERS: dict[str, Callable[[_Args], CollectCommand]] = {
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
    "goals": _no_arguments(Goals()),
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
    try:
        return parser(_Args(text, first.end, name))
    except _Refused as refused:
        return refused.error
