"""Hand-off: when a segment says so, an account nobody reaches moves to another collector.

Plain functions: whether an account is due (attempts without result since it was last
reached or handed over, against the segment's `handoff_after`), who takes it (the least
loaded in past-due money, never the one who has it), and the words on both call lists.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

# How long the new collector's lists say where an account came from.
SHOW_DAYS = 7


def handoff_due(attempts: int, handoff_after: int | None) -> bool:
    """True when the segment hands accounts off and this one had that many attempts."""
    return handoff_after is not None and attempts >= handoff_after


def least_loaded(load: Mapping[int, Decimal], current: int | None) -> int | None:
    """The collector (id) with the least past-due money among `load`'s, never `current`; ties
    go to the lowest id. None when nobody else can take it."""
    others = [(amount, member) for member, amount in load.items() if member != current]
    return min(others)[1] if others else None


def _attempts(count: int) -> str:
    return f"{count} attempt" if count == 1 else f"{count} attempts"


def handed_from(name: str, attempts: int) -> str:
    """The new collector's reason: "handed over from Ben after 6 attempts"."""
    return f"handed over from {name} after {_attempts(attempts)}"


def handed_to(name: str, attempts: int) -> str:
    """The previous collector's reason: "handed over to Ana after 6 attempts"."""
    return f"handed over to {name} after {_attempts(attempts)}"
