"""The level rules as plain functions: working days, the clock, who is above, the
recommendation; and their settings."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain.calendar import holiday_calendar, working_days_after
from bot.domain.escalation_levels import (
    LevelClock,
    holder_above,
    level_action,
    recommendation,
)
from bot.domain.vocabulary import EscalateAbove, EscalationLevel
from bot.settings import SettingsError, load_settings

WEEK = frozenset({1, 2, 3, 4, 5})
US = holiday_calendar("US", [2026])
MONDAY = date(2026, 11, 23)


def test_working_days_after_skip_weekends_and_holidays() -> None:
    assert working_days_after(MONDAY, MONDAY, WEEK, US) == 0
    assert working_days_after(MONDAY, date(2026, 11, 25), WEEK, US) == 2
    # Thanksgiving (Thursday 26) and the weekend do not count.
    assert working_days_after(MONDAY, date(2026, 11, 30), WEEK, US) == 4
    assert working_days_after(MONDAY, date(2026, 11, 20), WEEK, US) == 0
    assert working_days_after(MONDAY, date(2026, 11, 30), frozenset({6, 7}), {}) == 2


def _action(clock: LevelClock, today: date) -> str | None:
    return level_action(clock, today, days=2, weekdays=WEEK, holidays=US)


def test_level_clock_reminds_then_raises() -> None:
    told = LevelClock(MONDAY)
    assert _action(told, date(2026, 11, 24)) is None
    assert _action(told, date(2026, 11, 25)) == "remind"
    reminded = LevelClock(MONDAY, reminded_on=date(2026, 11, 25))
    assert _action(reminded, date(2026, 11, 27)) is None  # Thanksgiving, then Friday: 1
    assert _action(reminded, date(2026, 11, 30)) == "raise"


def test_a_snooze_stops_the_clock_and_restarts_it_on_its_end() -> None:
    snoozed = LevelClock(MONDAY, snoozed_until=date(2026, 11, 30))
    assert _action(snoozed, date(2026, 11, 27)) is None
    assert _action(snoozed, date(2026, 11, 30)) is None
    assert _action(snoozed, date(2026, 12, 2)) == "remind"
    reminded = LevelClock(MONDAY, date(2026, 11, 24), snoozed_until=date(2026, 12, 1))
    assert _action(reminded, date(2026, 12, 2)) is None
    assert _action(reminded, date(2026, 12, 3)) == "raise"
    with pytest.raises(ValueError, match="at least one working day"):
        level_action(snoozed, MONDAY, days=0, weekdays=WEEK, holidays=US)


def test_holder_above_is_the_manager_then_a_head_never_twice() -> None:
    manager_of = {1: 2, 2: None, 3: None, 4: None}
    heads = [3, 4]
    up = EscalateAbove.MANAGER
    assert holder_above(1, manager_of=manager_of, heads=heads, held={1}, above=up) == 2
    assert holder_above(2, manager_of=manager_of, heads=heads, held={1, 2}, above=up) == 3
    assert holder_above(3, manager_of=manager_of, heads=heads, held={1, 2, 3}, above=up) == 4
    assert holder_above(4, manager_of=manager_of, heads=heads, held={1, 2, 3, 4},
                        above=up) is None
    head = EscalateAbove.HEAD
    assert holder_above(1, manager_of=manager_of, heads=heads, held={1}, above=head) == 3
    # The managers channel holds it: a head next.
    assert holder_above(None, manager_of=manager_of, heads=heads, held=set(), above=up) == 3
    # A loop in the roster never sends it back.
    assert holder_above(1, manager_of={1: 2, 2: 1}, heads=[], held={1, 2}, above=up) is None


def test_recommendation_follows_the_path_after_the_maximum_contacts() -> None:
    path = (EscalationLevel.MANAGER, EscalationLevel.AGENCY, EscalationLevel.LEGAL)
    assert recommendation(path, contacts=1, max_contacts=2) is None
    assert recommendation(path, contacts=2, max_contacts=2) is EscalationLevel.AGENCY
    assert recommendation((EscalationLevel.MANAGER, EscalationLevel.LEGAL), contacts=5,
                          max_contacts=2) is EscalationLevel.LEGAL
    assert recommendation((EscalationLevel.MANAGER,), contacts=9, max_contacts=2) is None


def test_settings_defaults_and_bad_values() -> None:
    settings = load_settings()
    assert (settings.escalation_remind_days, settings.escalation_above) == (
        2, EscalateAbove.MANAGER)
    assert load_settings(COLLECTBOT_ESCALATION_ABOVE="head").escalation_above is \
        EscalateAbove.HEAD
    with pytest.raises(SettingsError, match="COLLECTBOT_ESCALATION_ABOVE"):
        load_settings(COLLECTBOT_ESCALATION_ABOVE="ceo")
    with pytest.raises(SettingsError, match="COLLECTBOT_ESCALATION_REMIND_DAYS"):
        load_settings(COLLECTBOT_ESCALATION_REMIND_DAYS="0")
