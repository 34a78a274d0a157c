"""Cell parsers: amounts, dates, booleans, working days and times as exported by other systems."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal

from bot.domain.money import CENT, DECIMAL_COMMA, DECIMAL_POINT, MoneyError, read_amount


class CellError(ValueError):
    """One cell cannot be read; the message says what is wrong with it."""


_PLAIN = re.compile(r"\d{1,12}(?:\.\d{1,2})?")


class AmountReader:
    """A file's amounts, read one way (formats: `bot.domain.money`).

    The decimal mark is given (`--decimal-comma`, `--decimal-point`) or fixed by the first
    amount that shows one; an amount written the other way is then a bad cell, so "1,5" and
    "1,234" never mean 1.50 and 1234.00 in one file.
    """

    def __init__(self, mark: str | None = None) -> None:
        self.mark = mark
        self.first: str | None = None  # the amount that fixed the mark, for error messages

    def __call__(self, text: str) -> Decimal:
        raw = text.strip()
        if self.mark != DECIMAL_COMMA and _PLAIN.fullmatch(raw):
            # The common cell, fast: digits and a decimal point.
            if self.mark is None and "." in raw:
                self.mark, self.first = DECIMAL_POINT, raw
            return Decimal(raw).quantize(CENT)
        try:
            amount = read_amount(raw, self.mark)
        except MoneyError as exc:
            if exc.kind == "mark" and self.first is not None:
                raise CellError(f"{exc} (as {self.first!r} earlier in the file)") from None
            raise CellError(str(exc)) from None
        if self.mark is None and amount.mark is not None:
            self.mark, self.first = amount.mark, raw
        return amount.value


def parse_date(text: str, date_format: str | None) -> date:
    """A date in ISO form (YYYY-MM-DD) or in the given strptime format."""
    raw = text.strip()
    if date_format is None:
        if len(raw) == 10 and raw[4] == "-" and raw[7] == "-":
            try:
                return date.fromisoformat(raw)
            except ValueError:
                pass
        raise CellError(f"not a date (YYYY-MM-DD): {raw!r}")
    try:
        return datetime.strptime(raw, date_format).date()
    except ValueError:
        raise CellError(f"not a date in format {date_format}: {raw!r}") from None


_TRUE = frozenset({"yes", "y", "true", "t", "1"})
_FALSE = frozenset({"no", "n", "false", "f", "0"})


def parse_bool(text: str) -> bool:
    """yes/no, true/false, y/n, t/f, 1/0 (any case)."""
    word = text.strip().lower()
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise CellError(f"not yes/no: {text.strip()!r}")


_DAYS = {"mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6, "sun": 7}


def _weekday(token: str, raw: str) -> int:
    token = token.strip().lower()
    if token.isdigit() and 1 <= int(token) <= 7:
        return int(token)
    if len(token) >= 3 and token[:3] in _DAYS:
        return _DAYS[token[:3]]
    raise CellError(f"not working days (e.g. mon-fri, 1,2,3,4,5, mon,wed): {raw!r}")


def parse_working_days(text: str) -> str:
    """'mon-fri', '1,2,3,4,5', 'mon,tue,wed', 'Mon-Thu,Sat' -> '1,2,3,4,6' (ISO, Monday=1)."""
    raw = text.strip()
    days: set[int] = set()
    for part in re.split(r"[,;\s]+", raw):
        if not part:
            continue
        if "-" in part:
            first, _, last = part.partition("-")
            start, end = _weekday(first, raw), _weekday(last, raw)
            if end < start:
                raise CellError(f"day range runs backwards: {part!r}")
            days.update(range(start, end + 1))
        else:
            days.add(_weekday(part, raw))
    if not days:
        raise CellError("no working days given")
    return ",".join(str(d) for d in sorted(days))


def parse_time(text: str) -> time:
    """HH:MM on a 24-hour clock."""
    raw = text.strip()
    match = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not match or int(match[1]) > 23 or int(match[2]) > 59:
        raise CellError(f"not a time (HH:MM, 24-hour): {raw!r}")
    return time(int(match[1]), int(match[2]))


def parse_int(text: str, *, low: int, high: int) -> int:
    """A whole number between low and high inclusive."""
    raw = text.strip()
    if not re.fullmatch(r"[+-]?\d+", raw):
        raise CellError(f"not a whole number: {raw!r}")
    value = int(raw)
    if not low <= value <= high:
        raise CellError(f"must be between {low} and {high}: {value}")
    return value


def parse_text(text: str, *, limit: int) -> str:
    """Trimmed text no longer than the column allows (and with no NUL, which no engine stores)."""
    value = text.strip()
    if len(value) > limit:
        raise CellError(f"longer than {limit} characters ({len(value)})")
    if "\x00" in value:
        raise CellError("contains a NUL byte (\\x00)")
    return value


# A cell starting with one of these is a formula to a spreadsheet ("CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def parse_key(text: str, *, limit: int) -> str:
    """A reference that identifies a row (invoice number, customer or payment id)."""
    value = parse_text(text, limit=limit)
    if value.startswith(FORMULA_STARTS):
        raise CellError(f"a reference may not start with {value[0]!r} (read as a formula by "
                        "spreadsheets)")
    return value


def parse_email(text: str) -> str:
    value = parse_text(text, limit=200)
    if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise CellError(f"not an email address: {value!r}")
    return value


def parse_choice(text: str, choices: frozenset[str]) -> str:
    """One of a fixed set of words; 'On Hold' and 'on-hold' read as 'on_hold'."""
    word = re.sub(r"[\s-]+", "_", text.strip().lower())
    if word not in choices:
        raise CellError(f"{text.strip()!r} is not one of {', '.join(sorted(choices))}")
    return word
