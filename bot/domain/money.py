"""Money as a collector reads it (dollars with separators) and as people write it (one parser)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def format_money(amount: Decimal) -> str:
    """Dollars with separators: $12,400 when whole, $3,210.50 otherwise, -$75 when negative."""
    if not amount.is_finite():
        raise ValueError(f"not an amount of money: {amount}")
    cents = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    if cents == cents.to_integral_value():
        return f"{sign}${int(cents):,}"
    return f"{sign}${cents:,.2f}"


# Reading amounts people type or systems export. One parser for the importer and Slack.
#
# Formats: digits with an optional decimal mark and one or two decimals ("1234", "1234.5",
# "0.99", ".50"); digits may be grouped in threes by one separator used throughout (",", ".",
# space, no-break space, "'" or "_": "1,234,567.89", "1.234,50", "1 234,50", "1'000'000");
# a currency symbol ($ € £ ¥ ₹) or a 3-letter code before or after ("$1,200", "1 234,50 €",
# "USD 12.30"); a minus sign or parentheses for a negative amount ("-5", "(100.00)").
# The decimal mark is "." or ",", never both in one text: "1,5" is 1.50 and "1,234" is 1234.00
# (three digits after a comma are a group, not decimals). Every text that shows a mark has one
# reading only; a caller reading many amounts (a file) fixes the mark at the first that shows
# one and refuses the ones written the other way. Bad grouping ("12,34,56") is refused.

DECIMAL_POINT = "."
DECIMAL_COMMA = ","
MARK_NAMES = {DECIMAL_POINT: "decimal point", DECIMAL_COMMA: "decimal comma"}
MAX_AMOUNT = Decimal("999999999999.99")  # the ledger stores Numeric(14, 2)

_SYMBOLS = re.compile(r"[$€£¥₹]")
_CODES = re.compile(r"^[A-Z]{3}\s*|\s*[A-Z]{3}$")
_SPACES = " \u00a0\u202f'_"


def _number_pattern(mark: str) -> re.Pattern[str]:
    group = "[" + re.escape(("." if mark == "," else ",") + _SPACES) + "]"
    return re.compile(
        rf"(?P<whole>\d{{1,3}}(?P<g>{group})\d{{3}}(?:(?P=g)\d{{3}})*|\d+)?"
        rf"(?:{re.escape(mark)}(?P<cents>\d+))?"
    )


_NUMBERS = {mark: _number_pattern(mark) for mark in MARK_NAMES}


class MoneyError(ValueError):
    """Text that is not an amount; `kind` says why: format, decimals, mark, too_large, sign."""

    def __init__(self, message: str, kind: str = "format") -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True, slots=True)
class Amount:
    """An amount read from text, and the decimal mark the text showed (None: it showed none)."""

    value: Decimal
    mark: str | None


def _sign_and_number(raw: str) -> tuple[bool, str]:
    body, negative = raw, False
    if body.startswith("(") and body.endswith(")"):
        negative, body = True, body[1:-1].strip()
    body = _CODES.sub("", _SYMBOLS.sub("", body.upper()).strip()).strip()
    if body.startswith("-"):
        negative, body = not negative, body[1:].strip()
    return negative, body


def _under(body: str, mark: str, raw: str) -> Decimal | None:
    """The number `body` reads as with this decimal mark; None when it does not read."""
    match = _NUMBERS[mark].fullmatch(body)
    if match is None or (match["whole"] is None and match["cents"] is None):
        return None
    cents = match["cents"] or ""
    if len(cents) > 2:
        raise MoneyError(f"more than 2 decimal places: {raw!r} (with a {MARK_NAMES[mark]})",
                         "decimals")
    whole = re.sub(r"\D", "", match["whole"] or "0")
    return Decimal(f"{whole}.{cents or '0'}").quantize(CENT)


def read_amount(text: str, mark: str | None = None, *, signed: bool = True) -> Amount:
    """Read an amount (formats above) with the given decimal mark, or the one the text shows.

    MoneyError says why the text is not an amount.
    """
    raw = text.strip()
    negative, body = _sign_and_number(raw)
    if negative and not signed:
        raise MoneyError(f"not an amount: {raw!r} (no sign)", "sign")
    shown = mark
    if mark is not None:
        value = _under(body, mark, raw)
        if value is None:
            other = DECIMAL_COMMA if mark == DECIMAL_POINT else DECIMAL_POINT
            if _reads(body, other, raw):
                raise MoneyError(f"{raw!r} is written with a {MARK_NAMES[other]}; these amounts "
                                 f"use a {MARK_NAMES[mark]}", "mark")
    else:
        value, shown = _either(body, raw)
    if value is None:
        raise MoneyError(f"not an amount: {raw!r}")
    if value > MAX_AMOUNT:
        raise MoneyError(f"amount too large: {raw!r}", "too_large")
    if "," not in body and "." not in body:
        shown = None
    return Amount(-value if negative else value, shown)


def _reads(body: str, mark: str, raw: str) -> bool:
    try:
        return _under(body, mark, raw) is not None
    except MoneyError:
        return False


def _either(body: str, raw: str) -> tuple[Decimal | None, str | None]:
    """The one reading of `body` among the two marks (a text that shows a mark has one)."""
    problem: MoneyError | None = None
    for mark in (DECIMAL_POINT, DECIMAL_COMMA):
        try:
            value = _under(body, mark, raw)
        except MoneyError as exc:
            problem = problem or exc
            continue
        if value is not None:
            return value, mark
    if problem is not None:
        raise problem
    return None, None


def parse_money(text: str, mark: str = DECIMAL_POINT, *, signed: bool = True) -> Decimal:
    """An amount with a known decimal mark (Slack forms: a decimal point)."""
    return read_amount(text, mark, signed=signed).value
