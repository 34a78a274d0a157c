"""A member's daily call target: the one rule the roster import and the targets modal share."""

from __future__ import annotations

MIN_COLLECTOR_CALLS = 1
MAX_DAILY_CALLS = 500  # more than a person can make in a day: a typo


def parse_call_target(text: str, *, collector: bool) -> int | None:
    """Calls a day from text: None when blank (keep the current target); a collector 1-500,
    a manager or admin 0-500 (they need not call). ValueError says what is wrong."""
    raw = text.strip()
    if not raw:
        return None
    low = MIN_COLLECTOR_CALLS if collector else 0
    if not raw.isdigit():
        raise ValueError(f"a whole number of calls, {low}-{MAX_DAILY_CALLS}")
    calls = int(raw)
    if calls > MAX_DAILY_CALLS:
        raise ValueError(f"at most {MAX_DAILY_CALLS} calls a day")
    if calls < low:
        raise ValueError(f"a collector needs at least {low} call a day; to take them off the "
                         "lists, mark them out of office or inactive")
    return calls
