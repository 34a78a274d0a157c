"""Which dates a ledger may hold: a typo like 0001-01-01 or 9999-12-31 is refused, not stored.

A ledger date is plausible within YEARS_BACK years before the import's today and YEARS_AHEAD
years after it (an invoice may fall due years ahead, not centuries). A date money was received
(an invoice settled, a payment paid) is not after today. A date the user asks about (`report
--as-of`, `--today`) lies between EARLIEST and LATEST, where every figure's date arithmetic
stays inside the calendar.
"""

from __future__ import annotations

from datetime import date

YEARS_BACK = 50
YEARS_AHEAD = 10
EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)


def _years_from(day: date, years: int) -> date:
    year = min(max(day.year + years, 1), 9999)
    try:
        return day.replace(year=year)
    except ValueError:  # 29 February in a common year
        return day.replace(year=year, day=28)


def ledger_window(today: date) -> tuple[date, date]:
    """The first and last plausible ledger date, seen from `today`."""
    return _years_from(today, -YEARS_BACK), _years_from(today, YEARS_AHEAD)


def implausible(day: date, today: date, *, received: bool = False) -> str | None:
    """Why `day` cannot be a ledger date seen from `today` (None when it can)."""
    first, last = ledger_window(today)
    if received and day > today:
        return f"{day} is in the future (today is {today})"
    if day < first:
        return f"{day} is more than {YEARS_BACK} years ago"
    if day > last:
        return f"{day} is more than {YEARS_AHEAD} years ahead"
    return None


def out_of_range(day: date) -> str | None:
    """Why `day` cannot be asked about (None when it can)."""
    if EARLIEST <= day <= LATEST:
        return None
    return f"{day} is outside {EARLIEST} to {LATEST}"
