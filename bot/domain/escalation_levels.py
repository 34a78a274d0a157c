"""Levels of an escalation nobody decides: one reminder after N of its holder's working days,
then, N working days later, up to the holder's manager or a head; at the last level, the
policy's next step (agency or legal) recommended once the account had its maximum contacts.

Plain functions over dates, ids and the policy: the holder's calendar decides what a working
day is (bot.domain.calendar).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date
from typing import Literal

from bot.domain.calendar import working_days_after
from bot.domain.vocabulary import EscalateAbove, EscalationLevel

LevelAction = Literal["remind", "raise"]


@dataclass(frozen=True, slots=True)
class LevelClock:
    """Where an escalation stands with its holder, in the holder's local dates."""

    told_on: date  # the day the holder's message was sent
    reminded_on: date | None = None
    snoozed_until: date | None = None  # a snooze sleeps until (and wakes on) this day


def level_action(  # noqa: PLR0913 (a clock and a calendar)
    clock: LevelClock, today: date, *, days: int, weekdays: frozenset[int],
    holidays: Mapping[date, str],
) -> LevelAction | None:
    """"remind" after `days` working days without a decision, "raise" as many after the
    reminder, else None. A snooze stops the clock; it starts again on the day the snooze ends."""
    if days < 1:
        raise ValueError("a level lasts at least one working day")
    woke = clock.snoozed_until
    if woke is not None and woke > today:
        return None
    since = clock.told_on if clock.reminded_on is None else clock.reminded_on
    if woke is not None:
        since = max(since, woke)
    if working_days_after(since, today, weekdays, holidays) < days:
        return None
    return "remind" if clock.reminded_on is None else "raise"


def holder_above(
    holder_id: int | None, *, manager_of: Mapping[int, int | None], heads: Sequence[int],
    held: Set[int], above: EscalateAbove,
) -> int | None:
    """Who an escalation goes to after `holder_id` (None: the managers channel): the holder's
    manager (`above` manager), else the first head; never someone who held it already.
    None: the holder is the last level."""
    if above is EscalateAbove.MANAGER and holder_id is not None:
        manager = manager_of.get(holder_id)
        if manager is not None and manager not in held and manager != holder_id:
            return manager
    return next((head for head in heads if head not in held and head != holder_id), None)


def recommendation(
    path: Sequence[EscalationLevel], *, contacts: int, max_contacts: int
) -> EscalationLevel | None:
    """The policy's next step after the manager (agency or legal, the first on the segment's
    `escalation_path`) once the account had `max_contacts` contacts; None before, or when the
    path ends with the manager."""
    if contacts < max_contacts:
        return None
    return next((level for level in path if level is not EscalationLevel.MANAGER), None)


def days_words(count: int) -> str:
    """"1 working day", "4 working days"."""
    return f"{count} working day" if count == 1 else f"{count} working days"
