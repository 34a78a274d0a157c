"""Cell parsers: dates, booleans, working days, times as other systems export them."""

from __future__ import annotations

from datetime import date, time

import pytest

from bot.importer.values import (
    CellError,
    parse_bool,
    parse_choice,
    parse_date,
    parse_int,
    parse_time,
    parse_working_days,
)


def test_dates_iso_by_default_or_in_the_given_format() -> None:
    assert parse_date("2026-03-01", None) == date(2026, 3, 1)
    assert parse_date("03/01/2026", "%m/%d/%Y") == date(2026, 3, 1)
    with pytest.raises(CellError, match="YYYY-MM-DD"):
        parse_date("03/01/2026", None)
    with pytest.raises(CellError, match="%m/%d/%Y"):
        parse_date("13/01/2026", "%m/%d/%Y")
    with pytest.raises(CellError):
        parse_date("20260301", None)


def test_booleans() -> None:
    assert [parse_bool(t) for t in ("yes", "Y", "TRUE", "1", "no", "false", "0", "N")] == [
        True, True, True, True, False, False, False, False]
    with pytest.raises(CellError, match="yes/no"):
        parse_bool("maybe")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("mon-fri", "1,2,3,4,5"), ("1,2,3,4,5", "1,2,3,4,5"), ("mon,tue,wed", "1,2,3"),
     ("Mon-Thu, Sat", "1,2,3,4,6"), ("sunday", "7")],
)
def test_working_days(text: str, expected: str) -> None:
    assert parse_working_days(text) == expected


@pytest.mark.parametrize("text", ["fri-mon", "8", "weekdays", ","])
def test_bad_working_days(text: str) -> None:
    with pytest.raises(CellError):
        parse_working_days(text)


def test_times_ints_and_choices() -> None:
    assert parse_time("8:30") == time(8, 30)
    for bad in ("24:00", "8.30", "08:60"):
        with pytest.raises(CellError, match="HH:MM"):
            parse_time(bad)
    assert parse_int(" 25 ", low=1, high=500) == 25
    with pytest.raises(CellError, match="between 1 and 500"):
        parse_int("0", low=1, high=500)
    assert parse_choice("On Hold", frozenset({"on_hold", "active"})) == "on_hold"
    with pytest.raises(CellError, match="active, on_hold"):
        parse_choice("gone", frozenset({"on_hold", "active"}))
