"""Modal builders stay within Slack's limits; parsers accept good input and explain bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.slack.blockkit import validate_view
from bot.views import actions
from bot.views import modals as m

META = actions.ModalMetadata(actions.RowRef(7, 101), channel_id="D0ANA", message_ts="1.2")
TODAY = date(2026, 11, 23)
# 09:00 in Chicago on Monday 23 November 2026.
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)


def text_state(block_id: str, value: str | None) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "plain_text_input", "value": value}}}


def date_state(block_id: str, value: str | None) -> dict[str, Any]:
    return {block_id: {block_id: {"type": "datepicker", "selected_date": value}}}


def input_block_ids(view: dict[str, Any]) -> set[str]:
    return {b["block_id"] for b in view["blocks"] if b["type"] == "input"}


def invoices(count: int) -> list[m.InvoiceChoice]:
    return [
        m.InvoiceChoice(n, f"INV-{n:05d}", Decimal("1200.5"), TODAY - timedelta(days=n))
        for n in range(1, count + 1)
    ]


def test_every_modal_is_valid_and_carries_its_metadata() -> None:
    views = [
        m.promise_modal(META, customer_name="Acme", past_due=Decimal("1200"), today=TODAY),
        m.dispute_modal(META, customer_name="Acme", invoices=invoices(3)),
        m.dispute_modal(META, customer_name="Acme", invoices=[]),
        m.callback_modal(META, customer_name="Acme", tz="America/Chicago", today=TODAY),
        m.note_modal(META, customer_name="Acme"),
        m.snooze_modal(META, customer_name="Acme", max_days=30),
    ]
    for view in views:
        assert validate_view(view) == [], view["callback_id"]
        assert actions.decode_metadata(view["private_metadata"]) == META
        assert view["callback_id"] in actions.MODAL_CALLBACK_IDS


def test_long_hostile_customer_name_stays_valid() -> None:
    name = "<!channel> " + "&" * 400
    view = m.note_modal(META, customer_name=name)
    assert validate_view(view) == []
    context = view["blocks"][0]["elements"][0]
    assert context["type"] == "plain_text"
    assert context["text"].endswith("… · add a note")


def test_promise_modal_defaults() -> None:
    view = m.promise_modal(META, customer_name="Acme", past_due=Decimal("1200"), today=TODAY)
    amount, promised = view["blocks"][1], view["blocks"][2]
    assert amount["element"]["initial_value"] == "1200.00"
    assert promised["element"] == {
        "action_id": "promised_date",
        "type": "datepicker",
        "initial_date": "2026-11-23",
    }
    assert input_block_ids(view) == {m.AMOUNT, m.PROMISED_DATE}


def promise_state(amount: str | None, day: str | None) -> dict[str, Any]:
    return {**text_state(m.AMOUNT, amount), **date_state(m.PROMISED_DATE, day)}


def parse_promise(amount: str | None, day: str | None) -> m.PromiseInput | m.Errors:
    return m.parse_promise(
        promise_state(amount, day), today=TODAY, horizon_days=30, max_amount=Decimal("5000")
    )


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1200", "1200.00"),
        ("$1,200", "1200.00"),
        (" $ 1,200.5 ", "1200.50"),
        ("0.01", "0.01"),
        ("5000", "5000.00"),
        ("4,999.99", "4999.99"),
    ],
)
def test_parse_promise_accepts(typed: str, expected: str) -> None:
    result = parse_promise(typed, "2026-12-23")
    assert result == m.PromiseInput(Decimal(expected), date(2026, 12, 23))


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("", "Enter an amount"),
        (None, "Enter an amount"),
        ("abc", "Enter an amount"),
        ("-5", "Enter an amount"),
        ("1,20", "Enter an amount"),
        ("12,00,000", "Enter an amount"),
        ("1e3", "Enter an amount"),
        ("NaN", "Enter an amount"),
        ("1.234", "two decimals"),
        ("0", "more than $0"),
        ("0.00", "more than $0"),
        ("5000.01", "more than the balance not in dispute ($5,000)"),
    ],
)
def test_parse_promise_rejects_amount(typed: str | None, message: str) -> None:
    result = parse_promise(typed, "2026-11-24")
    assert isinstance(result, dict)
    assert list(result) == [m.AMOUNT]
    assert message in result[m.AMOUNT]


@pytest.mark.parametrize(
    ("day", "message"),
    [
        (None, "Pick the date"),
        ("", "Pick the date"),
        ("2026-02-30", "Pick the date"),
        ("23/11/2026", "Pick the date"),
        ("2026-11-22", "today or a later date"),
        ("2026-12-24", "within 30 days (by Wed 23 Dec 2026)"),
    ],
)
def test_parse_promise_rejects_date(day: str | None, message: str) -> None:
    result = parse_promise("100", day)
    assert isinstance(result, dict)
    assert list(result) == [m.PROMISED_DATE]
    assert message in result[m.PROMISED_DATE]


def test_parse_promise_date_bounds_are_inclusive() -> None:
    assert isinstance(parse_promise("100", "2026-11-23"), m.PromiseInput)
    assert isinstance(parse_promise("100", "2026-12-23"), m.PromiseInput)


def test_parse_promise_reports_both_errors_at_once() -> None:
    result = parse_promise("", None)
    assert isinstance(result, dict)
    assert set(result) == {m.AMOUNT, m.PROMISED_DATE}
    # Error keys must be the modal's input block ids, or Slack cannot place them.
    view = m.promise_modal(META, customer_name="A", past_due=Decimal("1"), today=TODAY)
    assert set(result) <= input_block_ids(view)


def test_parse_promise_survives_garbage_state() -> None:
    result = m.parse_promise(
        {m.AMOUNT: "nope", m.PROMISED_DATE: {m.PROMISED_DATE: []}},
        today=TODAY,
        horizon_days=30,
        max_amount=Decimal("1"),
    )
    assert isinstance(result, dict) and set(result) == {m.AMOUNT, m.PROMISED_DATE}


def test_dispute_modal_caps_invoices_at_100_oldest_first() -> None:
    view = m.dispute_modal(META, customer_name="Acme", invoices=invoices(130))
    assert validate_view(view) == []
    block = next(b for b in view["blocks"] if b.get("block_id") == m.DISPUTE_INVOICES)
    options = block["element"]["options"]
    assert len(options) == 100
    assert options[0]["value"] == "130"  # the oldest due date first
    assert "100 oldest of 130" in block["hint"]["text"]
    assert options[0]["text"]["text"] == "INV-00130 · $1,200.50 · due 16 Jul 2026"


def test_dispute_invoice_option_with_a_long_number_stays_under_75() -> None:
    long = m.InvoiceChoice(1, "N" * 200, Decimal("1"), TODAY)
    view = m.dispute_modal(META, customer_name="Acme", invoices=[long])
    assert validate_view(view) == []
    option = view["blocks"][2]["element"]["options"][0]
    assert option["text"]["text"].endswith("… · $1 · due 23 Nov 2026")


def dispute_state(
    reason: str | None, invoice_values: list[str] | None, note: str | None
) -> dict[str, Any]:
    state: dict[str, Any] = text_state(m.DISPUTE_NOTE, note)
    state[m.DISPUTE_REASON] = {
        m.DISPUTE_REASON: {
            "type": "static_select",
            "selected_option": None if reason is None else {"value": reason},
        }
    }
    state[m.DISPUTE_INVOICES] = {
        m.DISPUTE_INVOICES: {
            "type": "multi_static_select",
            "selected_options": [{"value": v} for v in invoice_values or []],
        }
    }
    return state


def test_parse_dispute_accepts() -> None:
    result = m.parse_dispute(
        dispute_state("pricing", ["3", "1", "3"], "  "), open_invoice_ids=[1, 2, 3]
    )
    assert result == m.DisputeInput("pricing", (1, 3), None)
    other = m.parse_dispute(dispute_state("other", ["2"], " wrong PO "), open_invoice_ids=[2])
    assert other == m.DisputeInput("other", (2,), "wrong PO")


def test_parse_dispute_without_open_invoices_needs_only_a_reason() -> None:
    result = m.parse_dispute(dispute_state("quality", None, None), open_invoice_ids=[])
    assert result == m.DisputeInput("quality", (), None)


@pytest.mark.parametrize(
    ("reason", "invoice_values", "note", "block_id", "message"),
    [
        (None, ["1"], None, m.DISPUTE_REASON, "Pick a reason"),
        ("bribery", ["1"], None, m.DISPUTE_REASON, "Pick a reason"),
        ("pricing", [], None, m.DISPUTE_INVOICES, "at least one"),
        ("pricing", ["9"], None, m.DISPUTE_INVOICES, "no longer open"),
        ("pricing", ["1; DROP"], None, m.DISPUTE_INVOICES, "not valid"),
        ("pricing", ["-1"], None, m.DISPUTE_INVOICES, "not valid"),
        ("other", ["1"], "", m.DISPUTE_NOTE, "when the reason is Other"),
        ("pricing", ["1"], "x" * 3001, m.DISPUTE_NOTE, "under 3000"),
    ],
)
def test_parse_dispute_rejects(
    reason: str | None, invoice_values: list[str], note: str | None, block_id: str, message: str
) -> None:
    result = m.parse_dispute(dispute_state(reason, invoice_values, note), open_invoice_ids=[1, 2])
    assert isinstance(result, dict)
    assert list(result) == [block_id]
    assert message in result[block_id]


def test_callback_modal_names_the_zone() -> None:
    view = m.callback_modal(META, customer_name="Acme", tz="America/Chicago", today=TODAY)
    time_block = view["blocks"][2]
    assert time_block["hint"]["text"] == "In your time zone (America/Chicago)."
    assert view["blocks"][1]["element"]["initial_date"] == "2026-11-23"


def callback_state(day: str | None, at: str | None) -> dict[str, Any]:
    return {
        **date_state(m.CALLBACK_DATE, day),
        m.CALLBACK_TIME: {m.CALLBACK_TIME: {"type": "timepicker", "selected_time": at}},
    }


def parse_callback(
    day: str | None, at: str | None, now: datetime = NOW
) -> m.CallbackInput | m.Errors:
    return m.parse_callback(callback_state(day, at), now=now, tz="America/Chicago", horizon_days=60)


def test_parse_callback_converts_the_collectors_time_to_utc() -> None:
    # 14:30 in Chicago in November (CST, UTC-6) is 20:30 UTC.
    assert parse_callback("2026-11-23", "14:30") == m.CallbackInput(
        datetime(2026, 11, 23, 20, 30, tzinfo=UTC)
    )
    # In July Chicago is on CDT (UTC-5).
    july = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert parse_callback("2026-07-02", "09:00", now=july) == m.CallbackInput(
        datetime(2026, 7, 2, 14, 0, tzinfo=UTC)
    )


@pytest.mark.parametrize(
    ("day", "at", "block_id", "message"),
    [
        (None, "10:00", m.CALLBACK_DATE, "Pick a date"),
        ("2026-11-23", None, m.CALLBACK_TIME, "Pick a time"),
        ("2026-11-23", "25:00", m.CALLBACK_TIME, "Pick a time"),
        ("2026-11-23", "09:00", m.CALLBACK_TIME, "after now (09:00 in America/Chicago)"),
        ("2026-11-23", "08:59", m.CALLBACK_TIME, "after now"),
        ("2027-01-23", "10:00", m.CALLBACK_DATE, "within 60 days"),
    ],
)
def test_parse_callback_rejects(
    day: str | None, at: str | None, block_id: str, message: str
) -> None:
    result = parse_callback(day, at)
    assert isinstance(result, dict)
    assert list(result) == [block_id]
    assert message in result[block_id]


def test_parse_callback_one_minute_ahead_is_fine() -> None:
    assert parse_callback("2026-11-23", "09:01") == m.CallbackInput(
        datetime(2026, 11, 23, 15, 1, tzinfo=UTC)
    )


def test_parse_callback_rejects_a_time_skipped_by_daylight_saving() -> None:
    # Clocks jump from 02:00 to 03:00 in Chicago on 8 March 2026.
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    result = parse_callback("2026-03-08", "02:30", now=now)
    assert result == {
        m.CALLBACK_TIME: "02:30 does not exist that day in America/Chicago (clocks change)."
    }


def test_unknown_zone_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Nowhere/Land'"):
        m.callback_modal(META, customer_name="Acme", tz="Nowhere/Land", today=TODAY)
    with pytest.raises(ValueError, match="unknown time zone"):
        m.parse_callback(
            callback_state("2026-11-23", "10:00"), now=NOW, tz="../etc", horizon_days=9
        )


def test_parse_callback_needs_an_aware_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        parse_callback("2026-11-23", "10:00", now=datetime(2026, 11, 23, 9, 0))


def test_parse_note() -> None:
    assert m.parse_note(text_state(m.NOTE, "  called twice  ")) == m.NoteInput("called twice")
    assert m.parse_note(text_state(m.NOTE, "   ")) == {m.NOTE: "Write the note first."}
    assert m.parse_note({}) == {m.NOTE: "Write the note first."}
    assert m.parse_note(text_state(m.NOTE, "x" * 3000)) == m.NoteInput("x" * 3000)
    too_long = m.parse_note(text_state(m.NOTE, "x" * 3001))
    assert too_long == {m.NOTE: "Keep the note under 3000 characters."}


@pytest.mark.parametrize(("typed", "days"), [("1", 1), ("30", 30), (" 7 ", 7)])
def test_parse_snooze_accepts(typed: str, days: int) -> None:
    result = m.parse_snooze(text_state(m.SNOOZE_DAYS, typed), today=TODAY, max_days=30)
    assert result == m.SnoozeInput(days, TODAY + timedelta(days=days))


@pytest.mark.parametrize("typed", ["0", "31", "-1", "1.5", "", "seven", "٣"])
def test_parse_snooze_rejects(typed: str) -> None:
    result = m.parse_snooze(text_state(m.SNOOZE_DAYS, typed), today=TODAY, max_days=30)
    assert result == {m.SNOOZE_DAYS: "Enter whole days from 1 to 30."}
