"""Small text pieces every view uses: the outgoing message, escaping, truncation, text objects."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.domain.money import format_money

Block = dict[str, Any]
ELLIPSIS = "…"
_SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
# Newlines and other control characters would break a one-line row apart.
_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]+")


@dataclass(frozen=True, slots=True)
class Message:
    """One chat message: the fallback text (notifications, screen readers) and its blocks."""

    text: str
    blocks: list[Block] = field(default_factory=list)


def zone_named(tz: str) -> ZoneInfo:
    """The IANA time zone, or ValueError naming the unknown zone."""
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {tz[:60]!r}") from None


def truncate(text: str, limit: int) -> str:
    """The text cut to at most `limit` characters, ending with "…" when it was cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def one_line(text: str) -> str:
    """Control characters and runs of whitespace collapsed to single spaces."""
    return " ".join(_CONTROL.sub(" ", text).split())


def escape_mrkdwn(text: str) -> str:
    """&, < and > escaped as Slack requires, so names never turn into links or mentions."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def inline(text: str, limit: int) -> str:
    """Untrusted text made safe for one mrkdwn line: one line, at most `limit` chars, escaped."""
    return escape_mrkdwn(truncate(one_line(text), limit))


def plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text}


def mention(slack_id: str | None, name: str) -> str:
    """A mention when the Slack user id looks real, else the escaped name."""
    if slack_id and _SLACK_USER_ID.fullmatch(slack_id):
        return f"<@{slack_id}>"
    return inline(name, 80)


def money(amount: Decimal) -> str:
    return format_money(amount)


def tenths(value: Decimal) -> Decimal:
    """Rounded to one decimal, half up (as money is): every figure in days or percent shows this,
    so a target of 58.25 days reads 58.3 in the recap, its chart, `/collect goals` and the
    terminal alike."""
    return value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def short_date(day: date) -> str:
    """ "Mon 23 Nov", the way a collector says a date this week."""
    return f"{day:%a} {day.day} {day:%b}"


def plural(count: int, singular: str, plural_form: str | None = None) -> str:
    word = singular if count == 1 else (plural_form or singular + "s")
    return f"{count} {word}"


def progress_cells(fraction: Decimal, width: int) -> str:
    """The one progress bar: `width` cells, filled in proportion to `fraction` (within 0..1)."""
    filled = int(min(max(fraction, Decimal(0)), Decimal(1)) * width)
    return "▓" * filled + "░" * (width - filled)
