"""App Home tabs: progress, rest of the list, promises, team, escalations; at most 100 blocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bot.domain.accounts import CallListItem
from bot.domain.vocabulary import EscalationLevel, Outcome
from bot.slack.blockkit import validate_view
from bot.views.call_list import CallListView, RecordedOutcome
from bot.views.home import (
    CollectorProgress,
    EscalationSummary,
    PromiseDue,
    collector_home,
    manager_home,
    progress_bar,
)

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
TODAY = date(2026, 11, 23)


def item(position: int) -> CallListItem:
    return CallListItem(
        position=position,
        customer_id=100 + position,
        external_ref=f"C-{position}",
        name=f"Customer {position}",
        past_due=Decimal("1000"),
        days_past_due=40,
        score=Decimal("1"),
        reason="$1,000 past due · 40 days",
    )


def call_list(count: int, recorded: dict[int, RecordedOutcome] | None = None) -> CallListView:
    return CallListView(
        collector_name="Ana",
        collector_slack_id="U0ANA",
        tz="America/Chicago",
        list_date=TODAY,
        call_list_id=7,
        past_due_book=Decimal("50000"),
        items=[item(n) for n in range(1, count + 1)],
        recorded=recorded or {},
    )


def promise(n: int) -> PromiseDue:
    return PromiseDue(f"Customer {n}", f"C-{n}", Decimal("250"), TODAY + timedelta(days=n % 5))


def texts(view: dict[str, Any]) -> list[str]:
    out = []
    for block in view["blocks"]:
        if block["type"] in ("section", "header"):
            out.append(block["text"]["text"])
        elif block["type"] == "context":
            out.extend(e["text"] for e in block["elements"])
    return out


def row_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("block_id", "").startswith("row:")]


def test_progress_bar() -> None:
    assert progress_bar(0, 25) == "░" * 10
    assert progress_bar(7, 25) == "▓▓░░░░░░░░"
    assert progress_bar(25, 25) == "▓" * 10
    assert progress_bar(40, 25) == "▓" * 10
    assert progress_bar(3, 0) == "▓" * 10


def test_collector_home_shows_progress_rest_of_list_and_promises() -> None:
    recorded = {
        101: RecordedOutcome(
            Outcome.REACHED, "Ana", NOW - timedelta(hours=1), 1, NOW - timedelta(minutes=50)
        ),
        102: RecordedOutcome(
            Outcome.PAID, "Ana", NOW - timedelta(minutes=1), 2, NOW + timedelta(minutes=9)
        ),
    }
    view = collector_home(
        call_list(4, recorded),
        now=NOW,
        target=25,
        calls_made=7,
        promises_due=[promise(1), promise(2)],
    )
    assert view["type"] == "home"
    assert validate_view(view) == []
    shown = texts(view)
    assert shown[0] == "Today · Mon 23 Nov"
    assert shown[1] == "*7 of 25 calls* · 28% of today's target\n▓▓░░░░░░░░"
    # The row recorded an hour ago is gone; the one still undoable stays, with Undo.
    assert row_ids(view) == ["row:7:102", "row:7:103", "row:7:104"]
    undo_block = view["blocks"][
        view["blocks"].index(next(b for b in view["blocks"] if b.get("block_id") == "act:7:102"))
    ]
    assert [e["action_id"] for e in undo_block["elements"]] == ["undo"]
    assert "Promises due this week" in shown
    assert "Tue 24 Nov · *$250* · Customer 1 (C-1)\nWed 25 Nov · *$250* · Customer 2 (C-2)" in shown


def test_collector_home_long_list_is_cut_with_a_pointer() -> None:
    promises = [promise(n) for n in range(60)]
    view = collector_home(call_list(120), now=NOW, target=120, calls_made=0, promises_due=promises)
    assert validate_view(view) == []
    assert len(view["blocks"]) <= 100
    rows = row_ids(view)
    assert rows[0] == "row:7:101"
    more = [t for t in texts(view) if t.startswith("…and")]
    assert more == [
        f"…and {120 - len(rows)} more, use /collect list",
        "…and 15 more, use /collect list",
    ]
    # Rows are never split from their buttons.
    for index, block in enumerate(view["blocks"]):
        if block.get("block_id", "").startswith("row:"):
            assert view["blocks"][index + 1]["block_id"].startswith("act:")


def test_collector_home_when_everything_is_done() -> None:
    done = {
        101: RecordedOutcome(
            Outcome.REACHED, "Ana", NOW - timedelta(hours=1), 1, NOW - timedelta(minutes=50)
        )
    }
    view = collector_home(call_list(1, done), now=NOW, target=1, calls_made=1, promises_due=[])
    assert validate_view(view) == []
    shown = texts(view)
    assert "Nothing left on today's list. Nice work." in shown
    assert "No promises fall due this week." in shown


def test_a_list_that_exactly_fills_the_home_is_not_cut() -> None:
    # 4 head blocks + 3 tail blocks leave 93: 46 rows of two blocks, and no "and N more".
    view = collector_home(call_list(46), now=NOW, target=46, calls_made=0, promises_due=[])
    assert validate_view(view) == []
    assert len(row_ids(view)) == 46
    assert not any(t.startswith("…and") for t in texts(view))
    cut = collector_home(call_list(47), now=NOW, target=47, calls_made=0, promises_due=[])
    assert validate_view(cut) == []
    assert "…and 1 more, use /collect list" in texts(cut)
    assert len(cut["blocks"]) == 100


def escalation(n: int) -> EscalationSummary:
    return EscalationSummary(
        escalation_id=n,
        customer_name=f"Customer <{n}>",
        external_ref=f"C-{n}",
        past_due=Decimal("9000"),
        days_past_due=95,
        level=EscalationLevel.MANAGER,
        reason="3 attempts without contact in 91–120 days",
        opened_on=TODAY - timedelta(days=n),
        collector_name="Ana",
    )


def test_manager_home_shows_team_and_escalations() -> None:
    team = [
        CollectorProgress("Ben", "U0BEN", 10, 20),
        CollectorProgress("Ana", "U0ANA", 25, 25),
        CollectorProgress("Cy", None, 0, 20, out_of_office=True),
    ]
    view = manager_home(today=TODAY, team=team, escalations=[escalation(1), escalation(3)])
    assert validate_view(view) == []
    shown = texts(view)
    assert shown[1] == "*35 of 65 calls* · 53% of today's target\n▓▓▓▓▓░░░░░"
    assert shown[2] == (
        "<@U0ANA> ▓▓▓▓▓▓▓▓▓▓ 25/25\n<@U0BEN> ▓▓▓▓▓░░░░░ 10/20\nCy ░░░░░░░░░░ 0/20 · out of office"
    )
    assert "Open escalations (2)" in shown
    # Oldest first, with the customer's name escaped.
    first = shown[shown.index("Open escalations (2)") + 1]
    assert first.startswith(
        "*Customer &lt;3&gt;* · C-3\n"
        "*$9,000* past due · 95 days · to manager since Fri 20 Nov · Ana"
    )


def test_manager_home_caps_escalations() -> None:
    team = [CollectorProgress(f"Collector {n}", f"U{n:04d}", n, 30) for n in range(50)]
    view = manager_home(today=TODAY, team=team, escalations=[escalation(n) for n in range(1, 201)])
    assert validate_view(view) == []
    assert len(view["blocks"]) >= 99  # each escalation is two blocks: its text, its buttons
    buttons = [b for b in view["blocks"] if b["type"] == "actions"]
    assert buttons and all(len(b["elements"]) == 6 for b in buttons)
    shown = texts(view)
    assert shown[-1].startswith("…and ") and "escalation DMs" in shown[-1]
    listed = sum(1 for t in shown if t.startswith("*Customer"))
    assert shown[-1] == f"…and {200 - listed} more, each is in your escalation DMs"


def test_manager_home_empty() -> None:
    view = manager_home(today=TODAY, team=[], escalations=[])
    assert validate_view(view) == []
    shown = texts(view)
    assert "No collectors on the roster yet." in shown
    assert "No open escalations." in shown
