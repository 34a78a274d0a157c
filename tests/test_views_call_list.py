"""The call list messages: content, the one-click buttons, recorded rows, splitting, escaping."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.domain.accounts import CallListItem
from bot.domain.vocabulary import Outcome
from bot.slack.blockkit import RECOMMENDED_MESSAGE_TEXT, validate_message
from bot.views import actions
from bot.views.call_list import (
    CallListView,
    RecordedOutcome,
    render_backup_notice,
    render_call_list,
    render_manager_ooo_notice,
)
from bot.views.text import Message

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)  # 09:00 in Chicago


def item(position: int, name: str = "", **extra: Any) -> CallListItem:
    fields: dict[str, Any] = {
        "position": position,
        "customer_id": 100 + position,
        "external_ref": f"C-{position:04d}",
        "name": name or f"Customer {position}",
        "past_due": Decimal("12400.00"),
        "days_past_due": 64,
        "score": Decimal("1"),
        "reason": "$12,400 past due · 64 days · promise of $5,000 broken 3 days ago",
        "contact_name": "Jane Doe",
        "phone": "+1 555 0100",
    }
    fields.update(extra)
    return CallListItem(**fields)


def view(items: list[CallListItem], **extra: Any) -> CallListView:
    fields: dict[str, Any] = {
        "collector_name": "Ana Diaz",
        "collector_slack_id": "U0ANA",
        "tz": "America/Chicago",
        "list_date": date(2026, 11, 23),
        "call_list_id": 7,
        "past_due_book": Decimal("48200"),
        "items": items,
    }
    fields.update(extra)
    return CallListView(**fields)


def assert_valid(messages: list[Message]) -> None:
    for message in messages:
        assert validate_message(message.text, message.blocks) == []
        assert len(message.text) <= RECOMMENDED_MESSAGE_TEXT


def all_action_ids(message: Message) -> list[str]:
    return [
        element["action_id"]
        for block in message.blocks
        if block["type"] == "actions"
        for element in block["elements"]
    ]


def test_short_list_is_one_message_with_header_and_buttons() -> None:
    [message] = render_call_list(view([item(1), item(2, "Beta & Sons")]), now=NOW)
    assert_valid([message])
    header = message.blocks[0]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": "Call list · Mon 23 Nov", "emoji": True},
    }
    assert message.blocks[1]["text"]["text"] == (
        "2 calls · $48,200 past due in your book outside disputes"
    )
    assert message.blocks[2]["elements"][0]["text"] == "Done 0 of 2"
    row = message.blocks[4]["text"]["text"]
    assert row.startswith("*1. Customer 1* · C-0001\n*$12,400* past due · 64 days")
    assert "Jane Doe · +1 555 0100" in row
    assert "Beta &amp; Sons" in message.blocks[6]["text"]["text"]
    assert message.text == (
        "Your call list for Mon 23 Nov: 2 calls, $48,200 past due outside disputes. "
        "First: Customer 1, Beta &amp; Sons"
    )


def test_row_buttons_carry_the_row() -> None:
    [message] = render_call_list(view([item(1)]), now=NOW)
    buttons = message.blocks[5]["elements"]
    labels = [b["text"]["text"] for b in buttons if b["type"] == "button"]
    assert labels == ["Reached", "Voicemail", "No answer", "Promise to pay…", "Paid", "Dispute…"]
    assert all_action_ids(message) == [
        "outcome:reached",
        "outcome:left_voicemail",
        "outcome:no_answer",
        "open:promise_to_pay",
        "outcome:paid",
        "open:dispute",
        "more",
    ]
    for button in buttons[:-1]:
        assert actions.decode_row(button["value"]) == actions.RowRef(7, 101)
    overflow = buttons[-1]
    choices = [actions.decode_more(o["value"]) for o in overflow["options"]]
    assert choices == [(c, actions.RowRef(7, 101)) for c in actions.MORE_CHOICES]


def test_last_outcome_is_shown_in_the_collectors_day() -> None:
    # 02:00 UTC on the 21st is still the 20th in Chicago.
    last = item(
        1, last_outcome=Outcome.NO_ANSWER, last_attempt_at=datetime(2026, 11, 21, 2, 0, tzinfo=UTC)
    )
    [message] = render_call_list(view([last]), now=NOW)
    assert "Last: No answer on Fri 20 Nov" in message.blocks[4]["text"]["text"]


def recorded(minutes_ago: int, outcome: Outcome = Outcome.PROMISE_TO_PAY) -> RecordedOutcome:
    at = NOW - timedelta(minutes=minutes_ago)
    return RecordedOutcome(
        outcome=outcome, by_name="Ana", at=at, attempt_id=555, undo_until=at + timedelta(minutes=10)
    )


def test_recorded_row_offers_undo_while_the_window_is_open() -> None:
    v = view([item(1), item(2)], recorded={101: recorded(2)})
    [message] = render_call_list(v, now=NOW)
    assert_valid([message])
    assert message.blocks[2]["elements"][0]["text"] == "Done 1 of 2"
    row = message.blocks[4]["text"]["text"]
    # 14:58 UTC is 08:58 in Chicago.
    assert "✅ Promise to pay — by Ana at 08:58 · undo until 09:08" in row
    undo = message.blocks[5]["elements"]
    assert [e["action_id"] for e in undo] == ["undo"]
    assert actions.decode_undo(undo[0]["value"]) == actions.UndoRef(actions.RowRef(7, 101), 555)
    # The other row still has its buttons.
    assert message.blocks[7]["elements"][0]["action_id"] == "outcome:reached"


def test_recorded_row_loses_undo_when_the_window_closes() -> None:
    v = view([item(1)], recorded={101: recorded(10, Outcome.PAID)})
    [message] = render_call_list(v, now=NOW)
    assert_valid([message])
    assert [b["type"] for b in message.blocks] == [
        "header",
        "section",
        "context",
        "divider",
        "section",
    ]
    assert "✅ Paid — by Ana at 08:50" in message.blocks[4]["text"]["text"]
    assert "undo" not in message.blocks[4]["text"]["text"]


def test_empty_list_is_a_friendly_message() -> None:
    [message] = render_call_list(view([]), now=NOW)
    assert_valid([message])
    assert message.text.startswith("No calls today")
    assert "nothing is due" in message.blocks[1]["text"]["text"]


def test_120_accounts_split_into_valid_messages_without_losing_any() -> None:
    items = [item(n) for n in range(1, 121)]
    messages = render_call_list(view(items), now=NOW)
    assert_valid(messages)
    assert len(messages) == 6
    assert messages[0].blocks[0]["text"]["text"] == "Call list · Mon 23 Nov (1/6)"
    assert messages[1].blocks[0]["elements"][0]["text"].startswith("*Call list (2/6)*")
    assert messages[1].text.startswith("Call list (2/6) for Mon 23 Nov: calls 24–47 of 120")
    shown = [
        actions.decode_row(block["block_id"].removeprefix("row:")).customer_id
        for message in messages
        for block in message.blocks
        if block.get("block_id", "").startswith("row:")
    ]
    assert shown == [101 + n for n in range(120)]
    assert "120 calls" in messages[0].text


def test_a_list_that_just_fits_stays_one_message() -> None:
    # Four head blocks plus 23 rows of two blocks is 50.
    assert len(render_call_list(view([item(n) for n in range(1, 24)]), now=NOW)) == 1
    assert len(render_call_list(view([item(n) for n in range(1, 25)]), now=NOW)) == 2


def test_naive_now_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        render_call_list(view([item(1)]), now=datetime(2026, 11, 23, 9, 0))


def test_bad_view_is_refused_early() -> None:
    with pytest.raises(ValueError, match="twice"):
        view([item(1), item(1)])
    with pytest.raises(ValueError, match="unknown time zone 'Mars/Olympus'"):
        view([item(1)], tz="Mars/Olympus")


def test_backup_notice_names_the_absent_collector() -> None:
    messages = render_backup_notice(
        view([item(1)]), backup_name="Ben", now=NOW, status_text=":palm_tree: vacation"
    )
    assert_valid(messages)
    [message] = messages
    assert message.blocks[0]["text"]["text"] == "Covering for Ana Diaz · Mon 23 Nov"
    intro = message.blocks[1]["text"]["text"]
    assert intro.startswith("Ben, <@U0ANA> is out of office today (:palm_tree: vacation).")
    assert "1 call · $48,200 past due in Ana Diaz's book outside disputes" in intro
    assert message.text.startswith("Covering for Ana Diaz on Mon 23 Nov: 1 call")


def test_manager_notice_with_and_without_backup() -> None:
    common: dict[str, Any] = {
        "absent_name": "Ana <Diaz>",
        "absent_slack_id": "U0ANA",
        "list_date": date(2026, 11, 23),
        "calls": 12,
        "past_due": Decimal("48200.5"),
    }
    with_backup = render_manager_ooo_notice(**common, backup_name="Ben", backup_slack_id="U0BEN")
    assert_valid([with_backup])
    body = with_backup.blocks[1]["text"]["text"]
    assert (
        body
        == "<@U0ANA> is out of office today. Their 12 calls ($48,200.50 past due) went to <@U0BEN>."
    )
    assert with_backup.text == "Ana &lt;Diaz&gt; is out of office on Mon 23 Nov; list went to Ben."
    alone = render_manager_ooo_notice(**common)
    assert_valid([alone])
    assert "No backup is set" in alone.blocks[1]["text"]["text"]


FRAGMENTS = [*"*_~`<>&@!#|\n\t ", "😀", "👩‍👩‍👧", "é", "\u202e", "<!channel>", "<@U123>", "a", "Z"]
hostile_text = st.one_of(
    st.text(max_size=300),
    st.lists(st.sampled_from(FRAGMENTS), max_size=320).map("".join),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(hostile_text, min_size=1, max_size=60),
    reason=hostile_text,
    contact=st.one_of(st.none(), hostile_text),
    by_name=hostile_text,
    amount=st.decimals(min_value=0, max_value=10**12, places=2),
)
def test_hostile_text_never_makes_an_invalid_message(
    names: list[str], reason: str, contact: str | None, by_name: str, amount: Decimal
) -> None:
    items = [
        item(
            n,
            name or "x",
            reason=reason,
            contact_name=contact,
            phone=contact,
            past_due=amount,
            external_ref=name[:300] or "r",
        )
        for n, name in enumerate(names, start=1)
    ]
    recorded_rows = {
        101: RecordedOutcome(Outcome.DISPUTE, by_name or "x", NOW, 1, NOW + timedelta(minutes=10))
    }
    v = view(items, collector_name=names[0] or "x", recorded=recorded_rows, past_due_book=amount)
    messages = render_call_list(v, now=NOW) + render_backup_notice(v, backup_name=by_name, now=NOW)
    assert_valid(messages)
    for message in messages:
        for block in message.blocks:
            if block["type"] == "section":
                # Nothing untrusted can open a link, a mention or a channel ping.
                assert "<!" not in block["text"]["text"]
                assert block["text"]["text"].count("<") == block["text"]["text"].count("<@")


def test_worst_case_text_is_truncated_not_rejected() -> None:
    worst = "&" * 400
    items = [
        item(n, worst, reason=worst, contact_name=worst, phone=worst, external_ref=worst)
        for n in range(1, 30)
    ]
    v = view(items, collector_name=worst, recorded={101: recorded(1)})
    messages = render_call_list(v, now=NOW) + render_backup_notice(v, backup_name=worst, now=NOW)
    assert_valid(messages)
    row = messages[0].blocks[4]["text"]["text"]
    assert row.split("\n")[0] == f"*1. {'&amp;' * 79}…* · {'&amp;' * 29}…"


def test_a_row_shows_balance_and_age_once() -> None:
    from bot.views.call_list import reason_tail

    assert reason_tail("$12,400 past due · 64 days · promise of $5,000 broken 3 days ago") == (
        "promise of $5,000 broken 3 days ago")
    assert reason_tail("$3,210 past due · 1 day · never contacted") == "never contacted"
    assert reason_tail("callback asked for 14:30") == "callback asked for 14:30"
