"""Cell parsers: amounts, dates, booleans, working days and times as exported by other systems."""

from __future__ import annotations

import re
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation

MAX_AMOUNT = Decimal("999999999999.99")  # Numeric(14, 2)
CENT = Decimal("0.01")


class CellError(ValueError):
    """One cell cannot be read; the message says what is wrong with it."""


_PLAIN = re.compile(r"\d{1,12}(?:\.\d{1,2})?")
_SYMBOLS = re.compile(r"[$€£¥₹]")
_CODES = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$")
_GROUPING = str.maketrans("", "", " \u00a0\u202f'_")


def parse_amount(text: str) -> Decimal:
    """'$1,234.50', '1 234,50 €', '(100.00)', '-5' -> Decimal with at most two decimals."""
    raw = text.strip()
    if _PLAIN.fullmatch(raw):
        return Decimal(raw).quantize(CENT)
    body = raw
    negative = False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    body = _CODES.sub("", _SYMBOLS.sub("", body.upper()).strip()).strip()
    if body.startswith("-"):
        negative, body = not negative, body[1:].strip()
    body = body.translate(_GROUPING)
    if "," in body and "." in body:
        # Whichever separator comes last is the decimal point.
        if body.rfind(",") > body.rfind("."):
            body = body.replace(".", "").replace(",", ".")
        else:
            body = body.replace(",", "")
    elif "," in body:
        head, _, tail = body.rpartition(",")
        if body.count(",") == 1 and len(tail) in (1, 2):
            body = f"{head}.{tail}"
        else:
            body = body.replace(",", "")
    if not body or not re.fullmatch(r"\d+(\.\d*)?|\.\d+", body):
        raise CellError(f"not an amount: {raw!r}")
    try:
        value = Decimal(body)
    except InvalidOperation:
        raise CellError(f"not an amount: {raw!r}") from None
    if value != value.quantize(CENT):
        raise CellError(f"more than 2 decimal places: {raw!r}")
    if value > MAX_AMOUNT:
        raise CellError(f"amount too large: {raw!r}")
    value = value.quantize(CENT)
    return -value if negative else value


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
    """Trimmed text no longer than the column allows."""
    value = text.strip()
    if len(value) > limit:
        raise CellError(f"longer than {limit} characters ({len(value)})")
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
