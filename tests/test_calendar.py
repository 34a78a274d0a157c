"""The collector's calendar: local days, working days, holidays and the morning decision."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.domain.calendar import (
    LocalDates,
    holiday_calendar,
    local_date,
    morning_decision,
    next_working_day,
    resolve_timezone,
)

NEW_YORK = ZoneInfo("America/New_York")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
TOKYO = ZoneInfo("Asia/Tokyo")
WEEKDAYS = frozenset({1, 2, 3, 4, 5})
MORNING = time(8, 30)
CUTOFF = time(12, 0)
US = holiday_calendar("US", [2026, 2027])


def decide(now: datetime, tz: ZoneInfo, weekdays: frozenset[int] = WEEKDAYS) -> str:
    return morning_decision(now, tz, MORNING, CUTOFF, weekdays, US).kind


def test_local_date_crosses_midnight_by_zone() -> None:
    instant = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)
    assert local_date(instant, NEW_YORK) == date(2026, 11, 23)
    assert local_date(instant, TOKYO) == date(2026, 11, 24)


def test_naive_time_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        local_date(datetime(2026, 11, 24, 2, 0), NEW_YORK)


def test_two_zones_same_instant_get_different_decisions() -> None:
    # Tuesday 13:45 UTC: 08:45 in New York (send), 05:45 in Los Angeles (wait).
    instant = datetime(2026, 11, 24, 13, 45, tzinfo=UTC)
    assert decide(instant, NEW_YORK) == "send"
    assert decide(instant, LOS_ANGELES) == "wait"
    # Same instant is 22:45 Tuesday in Tokyo: past the cutoff.
    assert decide(instant, TOKYO) == "skip"


def test_weekend_is_a_day_off() -> None:
    saturday = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    decision = morning_decision(saturday, NEW_YORK, MORNING, CUTOFF, WEEKDAYS, US)
    assert decision.kind == "day_off"
    assert decision.reason == "Saturday is not a working day"
    # A collector who works Saturdays gets the list.
    assert decide(saturday, NEW_YORK, WEEKDAYS | {6}) == "send"


def test_thanksgiving_is_a_holiday_with_its_name() -> None:
    decision = morning_decision(
        datetime(2026, 11, 26, 14, 0, tzinfo=UTC), NEW_YORK, MORNING, CUTOFF, WEEKDAYS, US
    )
    assert decision.kind == "holiday"
    assert decision.holiday_name == "Thanksgiving Day"
    assert decision.local_date == date(2026, 11, 26)


def test_catch_up_before_cutoff_sends_and_after_skips() -> None:
    # The scheduler was down at 08:30; it comes back at 11:59 local (send) or 12:00 (skip).
    assert decide(datetime(2026, 11, 24, 16, 59, tzinfo=UTC), NEW_YORK) == "send"
    decision = morning_decision(
        datetime(2026, 11, 24, 17, 0, tzinfo=UTC), NEW_YORK, MORNING, CUTOFF, WEEKDAYS, US
    )
    assert decision.kind == "skip"
    assert "12:00 cutoff" in decision.reason


def test_morning_boundary_is_inclusive() -> None:
    assert decide(datetime(2026, 11, 24, 13, 29, 59, tzinfo=UTC), NEW_YORK) == "wait"
    assert decide(datetime(2026, 11, 24, 13, 30, tzinfo=UTC), NEW_YORK) == "send"


def test_dst_fall_back_day_still_fires_at_local_morning() -> None:
    # 2026-11-01 is a Sunday in New York; clocks fall back at 02:00 EDT -> 01:00 EST.
    sunday_worker = frozenset({7})
    at_0830_est = datetime(2026, 11, 1, 13, 30, tzinfo=UTC)
    decision = morning_decision(at_0830_est, NEW_YORK, MORNING, CUTOFF, sunday_worker, US)
    assert (decision.kind, decision.local_time) == ("send", time(8, 30))
    # 12:30 UTC was 08:30 the day before (EDT); on the fall-back day it is 07:30.
    assert decide(datetime(2026, 11, 1, 12, 30, tzinfo=UTC), NEW_YORK, sunday_worker) == "wait"
    # The Monday after, still 08:30 local = 13:30 UTC.
    assert decide(datetime(2026, 11, 2, 13, 30, tzinfo=UTC), NEW_YORK) == "send"


def test_spring_forward_day_fires_at_local_morning() -> None:
    # 2026-03-09 Monday after DST started (March 8): 08:30 EDT = 12:30 UTC.
    assert decide(datetime(2026, 3, 9, 12, 30, tzinfo=UTC), NEW_YORK) == "send"
    assert decide(datetime(2026, 3, 9, 12, 29, tzinfo=UTC), NEW_YORK) == "wait"


def test_cutoff_must_follow_morning() -> None:
    with pytest.raises(ValueError, match="cutoff"):
        morning_decision(datetime(2026, 11, 24, 14, 0, tzinfo=UTC), NEW_YORK, CUTOFF, MORNING,
                         WEEKDAYS, US)


def test_next_working_day_skips_weekend_and_holiday() -> None:
    assert next_working_day(date(2026, 11, 25), WEEKDAYS, US) == date(2026, 11, 27)
    assert next_working_day(date(2026, 11, 27), WEEKDAYS, US) == date(2026, 11, 30)
    # Christmas 2026 is a Friday; New Year's Day 2027 a Friday.
    assert next_working_day(date(2026, 12, 24), WEEKDAYS, US) == date(2026, 12, 28)
    assert next_working_day(date(2026, 12, 31), WEEKDAYS, US) == date(2027, 1, 4)
    with pytest.raises(ValueError, match="at least one working day"):
        next_working_day(date(2026, 12, 31), frozenset(), US)


def test_resolve_timezone_prefers_roster_then_slack_then_team() -> None:
    assert resolve_timezone("Asia/Tokyo", "America/New_York", "UTC") == TOKYO
    assert resolve_timezone(None, "America/New_York", "UTC") == NEW_YORK
    assert resolve_timezone("", None, "America/Los_Angeles") == LOS_ANGELES
    assert resolve_timezone("Mars/Olympus", "Not/AZone", NEW_YORK) == NEW_YORK
    with pytest.raises(ValueError, match="unknown team time zone"):
        resolve_timezone(None, None, "Nowhere/Town")


def test_holiday_calendar_rejects_unknown_country() -> None:
    with pytest.raises(ValueError, match="unknown country"):
        holiday_calendar("XX", [2026])
    assert holiday_calendar("gb", [2026]).get(date(2026, 12, 25)) == "Christmas Day"


@pytest.mark.parametrize("zone", ["America/New_York", "Australia/Lord_Howe", "Asia/Kathmandu",
                                  "Asia/Kolkata", "Pacific/Chatham", "Europe/London", "UTC"])
def test_local_dates_agree_with_local_date_around_every_transition_of_the_year(
    zone: str,
) -> None:
    tz = ZoneInfo(zone)
    dates = LocalDates(tz)
    # Every 17 minutes and 13 seconds of 2026, through both DST changes (Lord Howe's move by
    # half an hour, Chatham's at :45), in a cache that is reused across the year.
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    while moment.year == 2026:
        assert dates(moment) == local_date(moment, tz), moment
        moment += timedelta(minutes=17, seconds=13)


def test_local_dates_take_an_instant_in_any_zone_and_refuse_a_naive_one() -> None:
    dates = LocalDates(ZoneInfo("America/New_York"))
    tokyo = datetime(2026, 3, 9, 12, 30, tzinfo=ZoneInfo("Asia/Tokyo"))  # 03:30 UTC, 23:30 NY
    assert dates(tokyo) == date(2026, 3, 8)
    with pytest.raises(ValueError, match="timezone-aware"):
        dates(datetime(2026, 3, 9, 13, 30))
