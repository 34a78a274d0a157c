"""The values bot/db/sql.py reads back from either engine: a date or a UTC timestamp as SQLite's
text or as the driver's object, always an aware UTC instant or a date."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from bot.db.sql import date_value, moment_value

INSTANT = datetime(2026, 8, 3, 14, 25, 31, 250000, tzinfo=UTC)


@pytest.mark.parametrize("value", [
    "2026-08-03 14:25:31.250000",  # SQLite's naive UTC text
    "2026-08-03T14:25:31.250000",
    "2026-08-03 16:25:31.250000+02:00",  # text with an offset of its own
    datetime(2026, 8, 3, 14, 25, 31, 250000),  # naive object: UTC
    INSTANT,
    INSTANT.astimezone(timezone(timedelta(hours=-4))),  # PostgreSQL's, in a session zone
])
def test_a_timestamp_reads_back_as_the_same_aware_instant(value: object) -> None:
    moment = moment_value(value)
    assert moment == INSTANT
    assert moment is not None and moment.utcoffset() is not None


def test_nothing_reads_back_as_nothing() -> None:
    assert moment_value(None) is None
    assert date_value(None) is None


def test_a_date_reads_back_from_text_or_as_it_is() -> None:
    assert date_value("2026-08-03") == date(2026, 8, 3)
    assert date_value(date(2026, 8, 3)) == date(2026, 8, 3)


def test_text_that_is_no_timestamp_is_refused() -> None:
    with pytest.raises(ValueError):
        moment_value("yesterday")
