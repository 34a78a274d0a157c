"""The one money parser: its formats, one reading per file, and the Slack forms' use of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from bot.db import Database
from bot.domain.money import DECIMAL_COMMA, DECIMAL_POINT, MoneyError, read_amount
from bot.importer import import_file
from bot.importer.values import AmountReader, CellError
from bot.views.modals import parse_amount


@pytest.mark.parametrize(
    ("text", "value", "mark"),
    [
        ("1234", "1234.00", None),
        ("1234.5", "1234.50", "."),
        ("$1,234.50", "1234.50", "."),
        ("1 234,50 €", "1234.50", ","),
        ("1.234,56", "1234.56", ","),
        ("USD 12.30", "12.30", "."),
        ("(100.00)", "-100.00", "."),
        ("-$3", "-3.00", None),
        ("12,5", "12.50", ","),
        ("1,234", "1234.00", "."),  # three digits after a comma are a group
        ("1.234", "1234.00", ","),  # ... and after a point
        ("1,234,567", "1234567.00", "."),
        ("1'000'000.01", "1000000.01", "."),
        ("1 000 000", "1000000.00", None),
        (".50", "0.50", "."),
    ],
)
def test_formats_and_the_mark_each_shows(text: str, value: str, mark: str | None) -> None:
    amount = read_amount(text)
    assert (amount.value, amount.mark) == (Decimal(value), mark)


@pytest.mark.parametrize(
    ("text", "kind", "message"),
    [
        ("12,34,56", "format", "not an amount: '12,34,56'"),
        ("1,23,456.00", "format", "not an amount"),
        ("1,234 567", "format", "not an amount"),  # two different group separators
        ("1.2345", "decimals", "more than 2 decimal places: '1.2345'"),
        ("abc", "format", "not an amount"),
        ("", "format", "not an amount"),
        ("1e5", "format", "not an amount"),
        ("5.", "format", "not an amount"),
        ("9999999999999", "too_large", "amount too large"),
    ],
)
def test_bad_amounts_say_why(text: str, kind: str, message: str) -> None:
    with pytest.raises(MoneyError, match=message) as caught:
        read_amount(text)
    assert caught.value.kind == kind


def test_a_given_mark_refuses_the_other_one() -> None:
    assert read_amount("1.234,50", DECIMAL_COMMA).value == Decimal("1234.50")
    assert read_amount("1,234.50", DECIMAL_POINT).value == Decimal("1234.50")
    with pytest.raises(MoneyError, match="'1,5' is written with a decimal comma; these amounts"
                                         " use a decimal point") as caught:
        read_amount("1,5", DECIMAL_POINT)
    assert caught.value.kind == "mark"
    with pytest.raises(MoneyError, match="more than 2 decimal places: '1,234' \\(with a "
                                         "decimal comma\\)"):
        read_amount("1,234", DECIMAL_COMMA)


def test_a_file_reads_every_amount_one_way() -> None:
    reader = AmountReader()
    assert reader("100") == Decimal("100.00")  # shows no mark: decides nothing
    assert reader("1,234") == Decimal("1234.00")  # decides: a decimal point
    with pytest.raises(CellError, match="'1,5' is written with a decimal comma; these amounts "
                                        "use a decimal point \\(as '1,234' earlier in the file\\)"):
        reader("1,5")
    assert reader("2.50") == Decimal("2.50")
    fast = AmountReader()
    assert fast("12.50") == Decimal("12.50")  # the fast path decides too
    with pytest.raises(CellError, match="written with a decimal comma"):
        fast("12,5")
    comma = AmountReader(DECIMAL_COMMA)
    assert comma("1.234,50") == Decimal("1234.50")
    with pytest.raises(CellError, match="'12.50' is written with a decimal point"):
        comma("12.50")


def test_an_import_refuses_amounts_written_the_other_way(db: Database, tmp_path: Path) -> None:
    path = tmp_path / "invoices.csv"
    path.write_text("number,customer_ref,issue_date,due_date,amount\n"
                    'I1,C1,2026-01-01,2026-01-31,"1,234"\n'
                    'I2,C1,2026-01-01,2026-01-31,"1,5"\n'
                    'I3,C1,2026-01-01,2026-01-31,"12,34,56"\n', encoding="utf-8")
    report = import_file(db, "invoices", path, today=date(2026, 3, 1), default_tz="UTC")
    assert [str(e) for e in report.errors] == [
        "line 3, column amount: '1,5' is written with a decimal comma; these amounts use a "
        "decimal point (as '1,234' earlier in the file)",
        "line 4, column amount: not an amount: '12,34,56'",
    ]
    assert not report.committed
    comma = import_file(db, "invoices", path, today=date(2026, 3, 1), default_tz="UTC",
                        decimal_mark=DECIMAL_COMMA, skip_invalid=True)
    assert [str(e) for e in comma.errors] == [
        "line 2, column amount: more than 2 decimal places: '1,234' (with a decimal comma)",
        "line 4, column amount: not an amount: '12,34,56'",
    ]
    assert comma.committed and comma.open_balance == Decimal("1.50")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("1200", "1200.00"), ("$1,200", "1200.00"), (" $ 1,200.5 ", "1200.50"), ("USD 5", "5.00")],
)
def test_slack_forms_read_with_the_same_parser(typed: str, expected: str) -> None:
    assert parse_amount(typed) == Decimal(expected)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("1,5", "Enter an amount"), ("12,34,56", "Enter an amount"), ("-5", "Enter an amount"),
     ("1.234", "at most two decimals"), ("0", "more than \\$0")],
)
def test_slack_forms_refuse_with_their_own_words(typed: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_amount(typed)
