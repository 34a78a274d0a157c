"""A collector's calendar: local day, working days, holidays, whether to send the morning list."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays as holidays_package

MorningKind = Literal["send", "wait", "skip", "day_off", "holiday"]


@dataclass(frozen=True, slots=True)
class MorningDecision:
    """What the morning job does for one collector now, and why, on the collector's local day."""

    kind: MorningKind
    local_date: date
    local_time: time
    reason: str
    holiday_name: str | None = None


def _require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got naive {moment.isoformat()}")


def local_date(now_utc: datetime, tz: ZoneInfo) -> date:
    """The calendar date on the wall in `tz` at this instant."""
    _require_aware(now_utc, "now_utc")
    return now_utc.astimezone(tz).date()


class LocalDates:
    """`local_date` of many instants in one zone, cached per UTC hour: the date every instant
    of that hour has in the zone (each instant is converted on its own in an hour whose offset
    changes, or that crosses midnight there). A fifth of the cost of converting each one when a
    recap or a job dates tens of thousands of calls."""

    def __init__(self, tz: ZoneInfo) -> None:
        self.tz = tz
        self._days: dict[tuple[int, int, int, int], date | None] = {}

    def __call__(self, moment: datetime) -> date:
        if moment.tzinfo is not UTC:
            _require_aware(moment, "moment")
            moment = moment.astimezone(UTC)
        key = (moment.year, moment.month, moment.day, moment.hour)
        try:
            day = self._days[key]
        except KeyError:
            day = self._days[key] = self._date_through(moment)
        return moment.astimezone(self.tz).date() if day is None else day

    def _date_through(self, moment: datetime) -> date | None:
        """The zone's date through the UTC hour of `moment`, or None when it is not one."""
        hour = moment.replace(minute=0, second=0, microsecond=0)
        first = hour.astimezone(self.tz)
        last = (hour + timedelta(hours=1) - timedelta(microseconds=1)).astimezone(self.tz)
        same = first.utcoffset() == last.utcoffset() and first.date() == last.date()
        return first.date() if same else None


def holiday_calendar(country: str, years: Iterable[int]) -> Mapping[date, str]:
    """Public holidays of a country (ISO code) for the given years: date -> holiday name."""
    code = country.strip().upper()
    if code not in holidays_package.list_supported_countries():
        raise ValueError(f"unknown country {country!r} (an ISO 3166 code like US, GB, DE)")
    calendar: Mapping[date, str] = holidays_package.country_holidays(code, years=list(years))
    return calendar


def _check_weekdays(weekdays: frozenset[int]) -> None:
    if not weekdays:
        raise ValueError("a collector needs at least one working day")
    if not weekdays <= frozenset(range(1, 8)):
        raise ValueError(f"working days are ISO weekdays 1 (Monday) to 7, got {sorted(weekdays)}")


def is_working_day(day: date, weekdays: frozenset[int], holidays: Mapping[date, str]) -> bool:
    """A working weekday (ISO, Monday=1) that is not a holiday."""
    return day.isoweekday() in weekdays and day not in holidays


def working_days_after(
    start: date, end: date, weekdays: frozenset[int], holidays: Mapping[date, str]
) -> int:
    """How many working days fall after `start`, up to and including `end` (0 if none)."""
    _check_weekdays(weekdays)
    count, day = 0, start + timedelta(days=1)
    while day <= end:
        count += is_working_day(day, weekdays, holidays)
        day += timedelta(days=1)
    return count


def next_working_day(day: date, weekdays: frozenset[int], holidays: Mapping[date, str]) -> date:
    """The first working day strictly after `day`."""
    _check_weekdays(weekdays)
    candidate = day + timedelta(days=1)
    # Two years of holidays cannot cover every working weekday; the bound only guards bad data.
    for _ in range(366 * 2):
        if is_working_day(candidate, weekdays, holidays):
            return candidate
        candidate += timedelta(days=1)
    raise ValueError(f"no working day within two years after {day.isoformat()}")


def morning_decision(  # noqa: PLR0917 - the scheduler's documented call shape
    now_utc: datetime,
    tz: ZoneInfo,
    morning_time: time,
    cutoff_time: time,
    weekdays: frozenset[int],
    holidays: Mapping[date, str],
) -> MorningDecision:
    """Send, wait, skip (catch-up window over), day off or holiday, in the collector's own zone."""
    _require_aware(now_utc, "now_utc")
    _check_weekdays(weekdays)
    if cutoff_time <= morning_time:
        raise ValueError(
            f"the list cutoff ({cutoff_time:%H:%M}) must be after the morning time "
            f"({morning_time:%H:%M})"
        )
    local = now_utc.astimezone(tz)
    today = local.date()
    wall = local.time().replace(tzinfo=None)
    if today.isoweekday() not in weekdays:
        return MorningDecision("day_off", today, wall, f"{today:%A} is not a working day")
    name = holidays.get(today)
    if name is not None:
        return MorningDecision("holiday", today, wall, f"holiday: {name}", holiday_name=name)
    if wall < morning_time:
        return MorningDecision("wait", today, wall, f"before {morning_time:%H:%M} local")
    if wall >= cutoff_time:
        return MorningDecision(
            "skip", today, wall,
            f"past the {cutoff_time:%H:%M} cutoff (local {wall:%H:%M}): today's list is skipped",
        )
    return MorningDecision("send", today, wall, f"{wall:%H:%M} local, between "
                           f"{morning_time:%H:%M} and {cutoff_time:%H:%M}")


def _zone(name: str | None) -> ZoneInfo | None:
    if not name or not name.strip():
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


def resolve_timezone(
    roster_tz: str | None, slack_tz: str | None, team_default: str | ZoneInfo
) -> ZoneInfo:
    """The roster's zone if set and valid, else Slack's users.info tz, else the team default."""
    for candidate in (roster_tz, slack_tz):
        zone = _zone(candidate)
        if zone is not None:
            return zone
    if isinstance(team_default, ZoneInfo):
        return team_default
    zone = _zone(team_default)
    if zone is None:
        raise ValueError(f"unknown team time zone {team_default!r}")
    return zone


def in_working_hours(  # noqa: PLR0913, PLR0917 (a person's whole working calendar)
    now_utc: datetime,
    tz: ZoneInfo,
    start: time,
    end: time,
    weekdays: frozenset[int],
    holidays: Mapping[date, str],
) -> bool:
    """True when it is a working day (not a holiday) in `tz` and the wall clock is in
    [start, end): when a person may be interrupted at work."""
    _require_aware(now_utc, "now_utc")
    local = now_utc.astimezone(tz)
    if not is_working_day(local.date(), weekdays, holidays):
        return False
    return start <= local.time().replace(tzinfo=None) < end
