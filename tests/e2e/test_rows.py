"""A list row over HTTP: one outcome whatever the surface, yesterday's DM, tampered values."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select

from bot.db.models import CallList, CallListEntry, Customer, PromiseToPay
from bot.domain.vocabulary import Outcome
from bot.services.morning import run_call_lists
from tests.e2e.conftest import ANA, E2E, START
from tests.slack_fixtures import fast_gateway

PROMISE = {
    "amount": {"amount": {"type": "plain_text_input", "value": "100"}},
    "promised_date": {"promised_date": {"type": "datepicker", "selected_date": "2026-03-20"}},
}
ALREADY = "Already recorded for Ana Account 1 by Ana Alvarez at 09:00 on Tue 10 Mar"


def _lists(e2e: E2E) -> list[CallList]:
    with e2e.database.uow() as uow:
        return list(uow.session.scalars(
            select(CallList).where(CallList.collector_id == e2e.members[ANA])
            .order_by(CallList.list_date)
        ))


def _first_row(e2e: E2E, call_list: CallList, index: int = 0) -> str:
    with e2e.database.uow() as uow:
        entry = uow.session.scalars(
            select(CallListEntry).where(CallListEntry.call_list_id == call_list.id)
            .order_by(CallListEntry.position)
        ).all()[index]
        return f"{call_list.id}:{entry.customer_id}"


def _open_promise(e2e: E2E, value: str, message_index: int = 0) -> dict[str, Any]:
    channel = e2e.sandbox.dm_channel(ANA)
    assert channel is not None
    message = e2e.sandbox.messages(channel)[message_index]
    before = len(e2e.sandbox.modals())
    reply = e2e.sender.click(ANA, "open:promise_to_pay", value, message=message, channel=channel)
    assert reply.status == 200
    e2e.settle()
    modals = e2e.sandbox.modals()
    assert len(modals) == before + 1
    return modals[-1]


def _click(e2e: E2E, action_id: str, value: str, message_index: int = 0) -> None:
    channel = e2e.sandbox.dm_channel(ANA)
    assert channel is not None
    message = e2e.sandbox.messages(channel)[message_index]
    reply = e2e.sender.click(ANA, action_id, value, message=message, channel=channel)
    assert reply.status == 200
    e2e.settle()


def _told(e2e: E2E) -> list[str]:
    return [e["text"] for e in e2e.sandbox.ephemerals(ANA)]


def _promises(e2e: E2E) -> int:
    with e2e.database.uow() as uow:
        return len(uow.session.scalars(select(PromiseToPay)).all())


def test_two_promise_modals_from_one_row_record_one_promise(e2e: E2E) -> None:
    [today] = _lists(e2e)
    value = _first_row(e2e, today)
    first = _open_promise(e2e, value)
    second = _open_promise(e2e, value)  # a second device, or the stale DM
    assert first["id"] != second["id"]
    assert e2e.sender.submit(ANA, first, PROMISE).status == 200
    e2e.settle()
    e2e.clock.advance(minutes=2)
    assert e2e.sender.submit(ANA, second, PROMISE).status == 200
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.outcome is Outcome.PROMISE_TO_PAY
    assert _promises(e2e) == 1
    refusal = _told(e2e)[-1]
    assert refusal.startswith(ALREADY) and "(promise to pay)" in refusal


def test_a_one_click_button_after_a_modal_outcome_says_already_recorded(e2e: E2E) -> None:
    [today] = _lists(e2e)
    value = _first_row(e2e, today)
    view = _open_promise(e2e, value)
    e2e.sender.submit(ANA, view, PROMISE)
    e2e.settle()
    e2e.clock.advance(minutes=1)
    _click(e2e, "outcome:reached", value)  # the stale DM still shows the buttons
    assert [a.outcome for a in e2e.attempts()] == [Outcome.PROMISE_TO_PAY]
    assert _told(e2e)[-1].startswith(ALREADY)


def test_a_promise_after_a_one_click_outcome_is_refused(e2e: E2E) -> None:
    [today] = _lists(e2e)
    value = _first_row(e2e, today)
    view = _open_promise(e2e, value)  # opened before the click, submitted after
    _click(e2e, "outcome:no_answer", value)
    e2e.sender.submit(ANA, view, PROMISE)
    e2e.settle()
    assert [a.outcome for a in e2e.attempts()] == [Outcome.NO_ANSWER]
    assert _promises(e2e) == 0
    assert _told(e2e)[-1].startswith(ALREADY)


def _next_morning(e2e: E2E) -> tuple[CallList, CallList]:
    tomorrow = START + timedelta(days=1)
    e2e.clock.now = tomorrow
    report = run_call_lists(e2e.database, fast_gateway(e2e.sandbox.url), e2e.settings,
                            now=tomorrow)
    assert report.outcomes[ANA] == "sent"
    yesterday, today = _lists(e2e)
    return yesterday, today


def test_a_click_on_yesterdays_list_records_on_todays_and_says_so(e2e: E2E) -> None:
    yesterday, today = _next_morning(e2e)
    old_value = _first_row(e2e, yesterday)
    customer_id = old_value.split(":")[1]
    _click(e2e, "outcome:reached", old_value, message_index=0)
    [attempt] = e2e.attempts()
    assert attempt.idempotency_key == f"row:{today.id}:{customer_id}"
    assert _told(e2e) == [
        "That list is from Tue 10 Mar: recorded on today's list (Wed 11 Mar) instead."
    ]
    channel = e2e.sandbox.dm_channel(ANA)
    todays_message = e2e.sandbox.messages(channel)[-1]
    assert "Reached — by Ana Alvarez" in str(todays_message["blocks"])
    assert "Done 1 of" in str(todays_message["blocks"])
    # The same row on today's list is now recorded: one outcome per row, whichever DM.
    _click(e2e, "outcome:no_answer", f"{today.id}:{customer_id}", message_index=-1)
    assert len(e2e.attempts()) == 1
    assert _told(e2e)[-1].startswith("Already recorded for Ana Account")


def test_a_form_from_yesterdays_list_records_on_todays(e2e: E2E) -> None:
    yesterday, today = _next_morning(e2e)
    old_value = _first_row(e2e, yesterday)
    view = _open_promise(e2e, old_value, message_index=0)
    e2e.sender.submit(ANA, view, PROMISE)
    e2e.settle()
    [attempt] = e2e.attempts()
    assert attempt.idempotency_key == f"row:{today.id}:{old_value.split(':')[1]}"
    assert _told(e2e)[-1].startswith(
        "That list is from Tue 10 Mar: recorded on today's list (Wed 11 Mar) instead."
        " Promise to pay recorded for Ana Account 1"
    )


def test_a_click_on_yesterdays_list_for_an_account_not_on_todays_records_nothing(
    e2e: E2E,
) -> None:
    yesterday, today = _next_morning(e2e)
    old_value = _first_row(e2e, yesterday)
    customer_id = int(old_value.split(":")[1])
    with e2e.database.uow() as uow:
        uow.session.execute(delete(CallListEntry).where(
            CallListEntry.call_list_id == today.id, CallListEntry.customer_id == customer_id))
        ref = uow.session.get_one(Customer, customer_id).external_ref
        uow.commit()
    audits = e2e.audit_count()
    _click(e2e, "outcome:reached", old_value, message_index=0)
    assert e2e.attempts() == []
    assert e2e.audit_count() == audits
    assert _told(e2e) == [
        "That list is from Tue 10 Mar and this account is not on today's list, so nothing was"
        f" recorded. To log a call anyway: /collect log {ref} OUTCOME."
    ]


def test_a_row_value_naming_an_account_not_on_that_list_is_refused(e2e: E2E) -> None:
    [today] = _lists(e2e)
    value = _first_row(e2e, today)
    list_id, customer_id = (int(part) for part in value.split(":"))
    with e2e.database.uow() as uow:  # Ana's own account, but not on this list
        uow.session.execute(delete(CallListEntry).where(
            CallListEntry.call_list_id == list_id, CallListEntry.customer_id == customer_id))
        uow.commit()
    audits = e2e.audit_count()
    _click(e2e, "outcome:reached", value)
    channel = e2e.sandbox.dm_channel(ANA)
    message = e2e.sandbox.messages(channel)[0]
    e2e.sender.choose(ANA, f"snooze:{value}", message=message, channel=channel)
    e2e.settle()
    assert e2e.attempts() == []
    assert e2e.audit_count() == audits
    assert e2e.sandbox.modals() == []
    assert _told(e2e) == ["That account is not on this call list; open today's list again."] * 2


def test_undo_takes_back_only_an_attempt_recorded_from_that_row(e2e: E2E) -> None:
    [today] = _lists(e2e)
    value = _first_row(e2e, today)
    customer_id = int(value.split(":")[1])
    with e2e.database.uow() as uow:
        ref = uow.session.get_one(Customer, customer_id).external_ref
    reply, _url = e2e.sender.command(ANA, f"log {ref} reached")
    assert reply.status == 200
    e2e.settle()
    [logged] = e2e.attempts()
    assert logged.source == "command"
    _click(e2e, "undo", f"{value}:{logged.id}")
    assert [a.id for a in e2e.attempts()] == [logged.id]
    assert _told(e2e)[-1] == "That Undo button does not match its row; refresh the list."
    # An attempt from another row of the same list is refused too.
    other = _first_row(e2e, today, 1)
    _click(e2e, "outcome:paid", other)
    paid = e2e.attempts()[-1]
    _click(e2e, "undo", f"{value}:{paid.id}")
    assert len(e2e.attempts()) == 2
    assert _told(e2e)[-1] == "That Undo button does not match its row; refresh the list."
