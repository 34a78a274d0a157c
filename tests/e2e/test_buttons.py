"""Call-list buttons over HTTP (and Socket Mode where marked): one click per outcome, replays,
concurrency, undo, who may click, the forms behind them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.domain.vocabulary import Outcome
from bot.logs import ContextIdsFilter
from bot.sandbox.sender import Reply
from tests.e2e.conftest import ADMIN, ANA, BEN, E2E, MANAGER, START, STRANGER, over_both_transports


def _row(e2e: E2E, slack_id: str, index: int = 0) -> str:
    entry = e2e.entries(slack_id)[index]
    return f"{entry.call_list_id}:{entry.customer_id}"


def _click(e2e: E2E, user: str, action_id: str, value: str, owner: str = ANA) -> None:
    message, channel = e2e.list_message(owner)
    reply = e2e.sender.click(user, action_id, value, message=message, channel=channel)
    assert reply.status == 200
    assert reply.body == b""  # the ack is empty: the work happens after it


def _texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(
        str(b.get("text", {}).get("text", "")) for b in blocks if isinstance(b.get("text"), dict)
    )


@over_both_transports
def test_one_click_records_updates_the_list_and_the_home(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    _click(e2e, ANA, "outcome:reached", value)
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.outcome is Outcome.REACHED
    assert attempt.source == "button"
    assert attempt.idempotency_key == f"row:{value}"
    assert attempt.at == e2e.clock.now
    message, _channel = e2e.list_message(ANA)
    assert "edited" in message
    text = _texts(message["blocks"])
    assert "✅ Reached — by Ana Alvarez at 09:00" in text
    assert "Done 1 of" in str(message["blocks"])
    undo_values = [
        element["value"]
        for block in message["blocks"] if block["type"] == "actions"
        for element in block["elements"] if element.get("action_id") == "undo"
    ]
    assert undo_values == [f"{value}:{attempt.id}"]
    home = e2e.sandbox.home_view(ANA)
    assert home is not None and "1 of 10 calls" in str(home["blocks"])


def test_twenty_replays_of_one_click_record_one_attempt(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    message, channel = e2e.list_message(ANA)
    statuses = [
        e2e.sender.click(ANA, "outcome:no_answer", value, message=message, channel=channel).status
        for _ in range(20)
    ]
    e2e.settle()
    assert statuses == [200] * 20
    assert len(e2e.attempts()) == 1
    refusals = [e for e in e2e.sandbox.ephemerals(ANA) if "Already recorded" in e["text"]]
    assert len(refusals) == 19


@over_both_transports
def test_twenty_concurrent_replays_record_one_attempt(e2e: E2E) -> None:
    value = _row(e2e, ANA, 1)
    message, channel = e2e.list_message(ANA)
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def replay() -> None:
        barrier.wait()
        reply = e2e.sender.click(ANA, "outcome:reached", value, message=message, channel=channel)
        statuses.append(reply.status)

    threads = [threading.Thread(target=replay) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    e2e.settle()
    assert statuses == [200] * 20
    assert [a.idempotency_key for a in e2e.attempts()] == [f"row:{value}"]


def test_concurrent_clicks_on_different_accounts_are_all_recorded(e2e: E2E) -> None:
    clicks = [(ANA, _row(e2e, ANA, i)) for i in range(4)]
    clicks += [(BEN, _row(e2e, BEN, i)) for i in range(4)]
    barrier = threading.Barrier(len(clicks))
    statuses: list[int] = []

    def click(user: str, value: str) -> None:
        message, channel = e2e.list_message(user)
        barrier.wait()
        reply = e2e.sender.click(user, "outcome:left_voicemail", value, message=message,
                                 channel=channel)
        statuses.append(reply.status)

    threads = [threading.Thread(target=click, args=pair) for pair in clicks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    e2e.settle()
    assert statuses == [200] * len(clicks)
    keys = sorted(a.idempotency_key or "" for a in e2e.attempts())
    assert keys == sorted(f"row:{value}" for _user, value in clicks)
    # Every list ends up showing all four rows done, whatever order the updates ran in.
    for user in (ANA, BEN):
        message, _channel = e2e.list_message(user)
        assert "Done 4 of 4" in str(message["blocks"])


@over_both_transports
def test_undo_removes_the_attempt_and_restores_the_row(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    _click(e2e, ANA, "outcome:paid", value)
    e2e.settle()
    [attempt] = e2e.attempts()
    _click(e2e, ANA, "undo", f"{value}:{attempt.id}")
    e2e.settle()
    assert e2e.attempts() == []
    message, _channel = e2e.list_message(ANA)
    assert "Done 0 of" in str(message["blocks"])
    assert f'"value": "{value}"' in str(message["blocks"]).replace("'", '"')
    # The row can be recorded again once undone.
    _click(e2e, ANA, "outcome:reached", value)
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.REACHED]


def test_undo_after_ten_minutes_is_refused(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    _click(e2e, ANA, "outcome:reached", value)
    e2e.settle()
    [attempt] = e2e.attempts()
    e2e.clock.advance(minutes=11)
    _click(e2e, ANA, "undo", f"{value}:{attempt.id}")
    e2e.settle()
    assert len(e2e.attempts()) == 1
    assert any("10 minutes" in e["text"] for e in e2e.sandbox.ephemerals(ANA))


@pytest.mark.parametrize(
    ("clicker", "refusal"),
    [
        (BEN, "Ana Alvarez's call list"),  # another collector
        (MANAGER, "Ana Alvarez's call list"),  # her manager: the list itself is hers alone
        (ADMIN, "Ana Alvarez's call list"),
        (STRANGER, "not on the collections roster"),
    ],
)
def test_only_the_lists_collector_may_click_its_buttons(
    e2e: E2E, clicker: str, refusal: str
) -> None:
    audits = e2e.audit_count()
    _click(e2e, clicker, "outcome:reached", _row(e2e, ANA))
    e2e.settle()
    assert e2e.attempts() == []
    assert e2e.audit_count() == audits
    [shown] = e2e.sandbox.ephemerals(clicker)
    assert refusal in shown["text"]
    assert "Traceback" not in shown["text"]


@over_both_transports
def test_a_malformed_button_value_is_refused_politely(e2e: E2E) -> None:
    _click(e2e, ANA, "outcome:reached", "1:2:3:oops")
    _click(e2e, ANA, "outcome:bogus", _row(e2e, ANA))
    e2e.settle()
    assert e2e.attempts() == []
    texts = [e["text"] for e in e2e.sandbox.ephemerals(ANA)]
    assert texts == ["That button is not valid any more; open today's list again."] * 2


@over_both_transports
def test_a_listeners_log_line_names_the_user_and_the_trigger(e2e: E2E) -> None:
    seen: list[logging.LogRecord] = []
    capture = logging.Handler()
    capture.emit = seen.append  # type: ignore[method-assign]
    capture.addFilter(ContextIdsFilter())  # as the app's handlers copy the ids
    listener_log = logging.getLogger("handlers.actions.outcomes")
    listener_log.addHandler(capture)
    try:
        _click(e2e, ANA, "outcome:bogus", _row(e2e, ANA))
        e2e.settle()
    finally:
        listener_log.removeHandler(capture)
    [refused] = [r for r in seen if "refused" in r.getMessage()]
    assert getattr(refused, "collector", None) == ANA
    assert str(getattr(refused, "slack_request_id", "")).startswith("trigger-")


@over_both_transports
def test_details_from_the_overflow_menu(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    message, channel = e2e.list_message(ANA)
    reply = e2e.sender.choose(ANA, f"details:{value}", message=message, channel=channel)
    assert reply.status == 200
    e2e.settle()
    [shown] = e2e.sandbox.ephemerals(ANA)
    entry = e2e.entries(ANA)[0]
    with e2e.database.uow() as uow:
        from bot.db.models import Customer

        customer = uow.session.get(Customer, entry.customer_id)
        assert customer is not None
        assert customer.name in shown["text"]
    assert "past due" in shown["text"]
    assert "No attempts yet." in shown["text"]


def _open_modal(e2e: E2E, action_id: str, value: str, *, overflow: bool = False) -> dict[str, Any]:
    message, channel = e2e.list_message(ANA)
    if overflow:
        reply = e2e.sender.choose(ANA, value, message=message, channel=channel)
    else:
        reply = e2e.sender.click(ANA, action_id, value, message=message, channel=channel)
    assert reply.status == 200
    e2e.settle()
    assert len(e2e.sandbox.calls_to("views.open")) == 1
    view = e2e.sandbox.modals()[-1]
    return view


@over_both_transports
def test_promise_modal_opens_with_the_past_due_and_saves_once(e2e: E2E) -> None:
    value = _row(e2e, ANA)
    view = _open_modal(e2e, "open:promise_to_pay", value)
    assert view["callback_id"] == "promise_modal"
    amount = view["blocks"][1]["element"]["initial_value"]
    assert amount == "2000.50"
    values = {
        "amount": {"amount": {"type": "plain_text_input", "value": "1,500"}},
        "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-20"}},
    }
    for _ in range(3):  # Slack may deliver a submission more than once
        reply = e2e.sender.submit(ANA, view, values)
        assert reply.status == 200 and reply.body == b""
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.outcome is Outcome.PROMISE_TO_PAY
    # The row's one outcome: the same key a one-click button on the row uses.
    assert attempt.idempotency_key == f"row:{value}"
    with e2e.database.uow() as uow:
        from bot.db.models import PromiseToPay

        [promise] = uow.session.query(PromiseToPay).all()
        assert str(promise.amount) == "1500.00"
        assert promise.promised_date.isoformat() == "2026-03-20"
    message, _channel = e2e.list_message(ANA)
    assert "Promise to pay — by Ana Alvarez" in _texts(message["blocks"])
    assert any("Promise to pay recorded" in e["text"] for e in e2e.sandbox.ephemerals(ANA))


@over_both_transports
def test_invalid_modal_input_returns_field_errors_and_saves_nothing(e2e: E2E) -> None:
    view = _open_modal(e2e, "open:promise_to_pay", _row(e2e, ANA))
    audits = e2e.audit_count()
    values = {
        "amount": {"amount": {"type": "plain_text_input", "value": "lots"}},
        "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-01"}},
    }
    reply = e2e.sender.submit(ANA, view, values)
    assert reply.status == 200
    body = reply.json()
    assert body["response_action"] == "errors"
    assert set(body["errors"]) == {"amount", "promised_date"}
    assert body["errors"]["promised_date"] == "Pick today or a later date."
    e2e.settle()
    assert e2e.attempts() == []
    assert e2e.audit_count() == audits


def test_dispute_modal_flags_the_chosen_invoice(e2e: E2E) -> None:
    view = _open_modal(e2e, "open:dispute", _row(e2e, ANA))
    options = view["blocks"][2]["element"]["options"]
    chosen = options[0]["value"]
    values = {
        "dispute_reason": {"dispute_reason": {"selected_option": {"value": "pricing"}}},
        "dispute_invoices": {"dispute_invoices": {"selected_options": [{"value": chosen}]}},
        "dispute_note": {"dispute_note": {"value": "Price list was wrong"}},
    }
    assert e2e.sender.submit(ANA, view, values).status == 200
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.outcome is Outcome.DISPUTE
    with e2e.database.uow() as uow:
        from bot.db.models import Invoice

        invoice = uow.session.get(Invoice, int(chosen))
        assert invoice is not None and invoice.disputed


@pytest.mark.parametrize(
    ("choice", "values", "expected"),
    [
        ("note", {"note": {"note": {"value": "Asked for a statement"}}}, Outcome.NOTE),
        (
            "callback",
            {
                "callback_date": {"callback_date": {"selected_date": "2026-03-11"}},
                "callback_time": {"callback_time": {"selected_time": "10:30"}},
            },
            Outcome.CALLBACK_REQUESTED,
        ),
    ],
)
def test_note_and_callback_modals_record_an_attempt(
    e2e: E2E, choice: str, values: dict[str, Any], expected: Outcome
) -> None:
    view = _open_modal(e2e, "more", f"{choice}:{_row(e2e, ANA)}", overflow=True)
    assert e2e.sender.submit(ANA, view, values).status == 200
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.outcome is expected
    if expected is Outcome.CALLBACK_REQUESTED:
        assert attempt.callback_at is not None
        assert attempt.callback_at.isoformat() == "2026-03-11T14:30:00+00:00"


def test_snooze_modal_keeps_the_account_off_the_list(e2e: E2E) -> None:
    entry = e2e.entries(ANA)[0]
    view = _open_modal(e2e, "more", f"snooze:{_row(e2e, ANA)}", overflow=True)
    bad = e2e.sender.submit(ANA, view, {"snooze_days": {"snooze_days": {"value": "0"}}})
    assert bad.json()["response_action"] == "errors"
    good = e2e.sender.submit(ANA, view, {"snooze_days": {"snooze_days": {"value": "3"}}})
    assert good.status == 200
    e2e.settle()
    with e2e.database.uow() as uow:
        from bot.db.models import Customer

        customer = uow.session.get(Customer, entry.customer_id)
        assert customer is not None
        assert customer.snoozed_until is not None
        assert customer.snoozed_until.isoformat() == "2026-03-13"
    assert e2e.attempts() == []
    # The next mornings' lists leave it off until the snooze ends.
    from zoneinfo import ZoneInfo

    from bot.db.models import TeamMember
    from bot.services.call_lists import Planned, compute_lists

    def listed_on(day: int) -> bool:
        with e2e.database.uow() as uow:
            ana = uow.session.query(TeamMember).filter_by(slack_user_id=ANA).one()
            when = START.replace(day=day)
            _, [computed] = compute_lists(
                uow.session, [Planned(ana, ZoneInfo("America/New_York"), when.date())],
                now=when)
        return entry.customer_id in {item.customer_id for item in computed.result.items}

    assert not listed_on(11) and not listed_on(12)
    assert listed_on(13)


def test_another_collector_cannot_open_a_form_on_the_list(e2e: E2E) -> None:
    message, channel = e2e.list_message(ANA)
    reply = e2e.sender.click(BEN, "open:promise_to_pay", _row(e2e, ANA), message=message,
                             channel=channel)
    assert reply.status == 200
    e2e.settle()
    assert e2e.sandbox.calls_to("views.open") == []
    [shown] = e2e.sandbox.ephemerals(BEN)
    assert "Ana Alvarez's call list" in shown["text"]


def test_an_outcome_is_saved_even_when_slack_refuses_the_update(e2e: E2E) -> None:
    e2e.sandbox.fail_next("chat.update", status=200, error="internal_error")
    value = _row(e2e, ANA)
    _click(e2e, ANA, "outcome:reached", value)
    e2e.settle()
    assert [a.idempotency_key for a in e2e.attempts()] == [f"row:{value}"]
    assert e2e.sandbox.ephemerals(ANA) == []
    # The next change re-renders the list from the database, this outcome included.
    _click(e2e, ANA, "outcome:no_answer", _row(e2e, ANA, 1))
    e2e.settle()
    message, _channel = e2e.list_message(ANA)
    assert "Done 2 of" in str(message["blocks"])


def test_refusals_are_acked_at_once_and_told_after_even_when_slack_is_slow(e2e: E2E) -> None:
    # The app answers Slack when the listener returns (process_before_response): a listener
    # that posts its refusal itself keeps Slack waiting, and past 3 s Slack shows an error.
    value = _row(e2e, ANA)
    view = _open_modal(e2e, "open:promise_to_pay", value)
    values = {
        "amount": {"amount": {"type": "plain_text_input", "value": "100"}},
        "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-20"}},
    }
    message, channel = e2e.list_message(ANA)
    e2e.sandbox.slow("chat.postEphemeral", 3)
    stale = "That button is not valid any more; open today's list again."
    requests: list[tuple[str, Callable[[], Reply], str, str]] = [
        ("malformed outcome button",
         lambda: e2e.sender.click(ANA, "outcome:reached", "1:2:3:oops", message=message,
                                  channel=channel),
         ANA, stale),
        ("unknown form button",
         lambda: e2e.sender.click(ANA, "open:bogus", value, message=message, channel=channel),
         ANA, stale),
        ("malformed overflow choice",
         lambda: e2e.sender.choose(ANA, "oops", message=message, channel=channel),
         ANA, "That menu is not valid any more; open today's list again."),
        ("malformed undo button",
         lambda: e2e.sender.click(ANA, "undo", "oops", message=message, channel=channel),
         ANA, "That Undo button is not valid any more."),
        ("submission by someone not on the roster",
         lambda: e2e.sender.submit(STRANGER, view, values),
         STRANGER, "not on the collections roster"),
    ]
    waited: dict[str, float] = {}
    for name, send, _user, _text in requests:
        started = time.monotonic()
        reply = send()
        waited[name] = time.monotonic() - started
        assert reply.status == 200 and reply.body == b"", name
    # chat.postEphemeral answers after 3 s: an ack that waited for its refusal took that long.
    # Nothing else is timed (a loaded machine may be slow, never 3 s slow on a bare ack).
    slow_acks = {name: round(seconds, 2) for name, seconds in waited.items() if seconds >= 3}
    assert slow_acks == {}, "Slack waited this long (s) for the ack"
    # Acknowledged before any ephemeral was shown: the refusals come after the ack...
    assert e2e.sandbox.ephemerals() == []
    e2e.settle()
    # ...and every one of them still arrives.
    for name, _send, user, text in requests:
        shown = [e["text"] for e in e2e.sandbox.ephemerals(user)]
        assert any(text in s for s in shown), f"{name}: {shown}"
    assert len(e2e.sandbox.ephemerals()) == len(requests)
    assert e2e.attempts() == []
